"""Where a report's period stands, as baocao_shared.periods says for every service: no report for a period
outside the plan or not open yet; a history period's report (before the province's start of tracking) holds
only what the staff office imported, counts nobody late or missing, and says its figures are the office's;
later periods compare with those imported figures as with any other."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from baocao_shared.errors import Conflict, NotFound
from baocao_shared.periods import plan_periods, standing
from consolidation.adapters.report_text import report_text
from consolidation.domain import periods as rules
from consolidation.domain.errors import PeriodNotOpen, PeriodOutsidePlan
from consolidation.domain.periods import HISTORY_NOTE
from consolidation.domain.report import ReportAddress
from consolidation.handlers import periods, projection, reports, workflow
from services.consolidation.tests.unit.fakes import FakePress
from services.consolidation.tests.unit.world import JUNE, NOW, PLAN, PROVINCE, Who, submission, world

TZ = PROVINCE.timezone
TRACKED_FROM_JULY = PLAN.model_copy(update={"tracking_from": "2019-07"})


def june(unit: str, version: int, figures: dict[str, int], *, imported: bool, period: str = "2019-06"):
    return submission(unit, version, figures, plan=TRACKED_FROM_JULY).model_copy(
        update={"imported": imported, "period": period}
    )


async def read(uow, period: str, *, now: datetime = NOW):
    return await reports.printable_report(uow, principal=Who.OPERATOR, address=ReportAddress("30", period), now=now)


async def history_world():
    """Hải Dương tracks plan 467 from July 2019: June is history. The world's CA sent June itself (not
    imported); the office imported BTG's June."""
    uow = await world()
    await projection.plan_upserted(uow, TRACKED_FROM_JULY)
    await projection.submission_recorded(uow, june("BTG", 1, {"t1_sessions": 40}, imported=True))
    return uow


# --- the pure rules ----------------------------------------------------------------------------------------


def test_a_period_outside_the_plan_or_not_open_has_no_report_and_the_refusal_names_its_state():
    with pytest.raises(PeriodOutsidePlan) as outside:
        rules.check_reportable(PLAN, standing(PLAN, "2019-05", TZ, NOW))
    assert isinstance(outside.value, NotFound) and outside.value.details["state"] == "outside_plan"
    assert "2019-05 is outside plan" in outside.value.message and "2019-06 to 2025-06" in outside.value.message
    with pytest.raises(PeriodOutsidePlan) as after:  # Hải Dương merged into Hải Phòng: plan 467 ended
        rules.check_reportable(PLAN, standing(PLAN, "2025-07", TZ, NOW))
    assert after.value.details["state"] == "outside_plan" and after.value.last_period == "2025-06"
    with pytest.raises(PeriodNotOpen) as not_open:
        rules.check_reportable(PLAN, standing(PLAN, "2019-08", TZ, NOW))  # August's window opens on 15 July
    assert isinstance(not_open.value, Conflict) and not_open.value.details["state"] == "not_open"
    assert not_open.value.opens_at == datetime(2019, 7, 14, 17, tzinfo=UTC)
    for period in ("2019-06", "2019-07"):  # overdue, open
        rules.check_reportable(PLAN, standing(PLAN, period, TZ, NOW))
    rules.check_reportable(TRACKED_FROM_JULY, standing(TRACKED_FROM_JULY, "2019-06", TZ, NOW))  # history


def test_history_periods_are_those_before_tracking_whatever_the_date():
    codes = ["2018-06", "2019-05", "2019-06", "2019-07", "2019-08"]
    assert rules.history_periods(TRACKED_FROM_JULY, codes) == {"2019-06"}  # 2018-06 and 2019-05: outside the plan
    for later in (NOW, NOW + timedelta(days=3650)):  # the same periods the shared standing calls history
        assert {c for c in codes if standing(TRACKED_FROM_JULY, c, TZ, later).state == "history"} == {"2019-06"}
    assert rules.history_periods(PLAN, codes) == set()
    nobody = rules.history_discipline()
    assert (nobody.expected, nobody.late, nobody.missing, nobody.pending, nobody.due_at) == (0, 0, 0, 0, None)


# --- the use cases ------------------------------------------------------------------------------------------


async def test_a_report_of_a_period_outside_the_plan_is_not_found_and_of_one_not_open_is_a_conflict():
    uow = await world()
    with pytest.raises(PeriodOutsidePlan):
        await read(uow, "2019-05")
    with pytest.raises(PeriodNotOpen):
        await read(uow, "2019-08")
    with pytest.raises(PeriodNotOpen):
        await workflow.approve(uow, principal=Who.OPERATOR, address=ReportAddress("30", "2019-08"), now=NOW)
    assert (await read(uow, "2019-08", now=NOW + timedelta(days=27))).standing.state == "open"


async def test_a_history_report_sums_only_the_offices_imports_and_counts_nobody_late_or_missing():
    printed = await read(await history_world(), "2019-06")
    report = printed.report
    assert printed.standing.state == "history" and printed.history
    assert [u.unit for u in report.units] == ["BTG"] and report.totals["t1_sessions"] == 40  # not CA's own 3
    d = report.discipline
    assert (d.expected, d.on_time, d.late, d.missing, d.pending) == (0, 0, 0, 0, 0)
    assert not d.late_units and not d.missing_units
    drafts = {s.kind: s.draft for s in report.sections}
    assert drafts["task"].startswith(HISTORY_NOTE) and drafts["assessment"].startswith(HISTORY_NOTE)
    assert "chậm" not in drafts["assessment"] and "chưa gửi" not in drafts["assessment"]
    doc = report_text(report, issued_on=date(2019, 6, 18), history=True)
    assert doc.intro.startswith(HISTORY_NOTE) and doc.discipline[0].startswith(HISTORY_NOTE)
    assert not any("chưa gửi" in line or "muộn" in line for line in doc.discipline)


async def test_a_tracked_period_compares_with_the_history_periods_imported_figures():
    uow = await history_world()
    july = june("CA", 1, {"t1_sessions": 5}, imported=False, period="2019-07")
    await projection.submission_recorded(uow, july)
    report = (await read(uow, "2019-07", now=NOW + timedelta(days=30))).report
    t1 = report.comparisons["t1_sessions"]
    assert (t1.total, t1.previous, t1.year_to_date) == (5, 40, 5 + 40)  # June: BTG's import, not CA's own 3
    assert (report.coverage.previous, report.coverage.year_to_date) == (1, 2)
    assert report.discipline.expected == 2 and report.discipline.on_time == 1  # July is tracked: BTG owes it


async def test_a_published_history_report_is_frozen_as_history():
    uow = await history_world()
    press = FakePress()
    await workflow.approve(uow, principal=Who.OPERATOR, address=JUNE, now=NOW)
    await workflow.publish(uow, principal=Who.OPERATOR, address=JUNE, now=NOW + timedelta(minutes=1), press=press)
    assert press.history is True
    tracked = await world()
    await workflow.approve(tracked, principal=Who.OPERATOR, address=JUNE, now=NOW)
    await workflow.publish(tracked, principal=Who.OPERATOR, address=JUNE, now=NOW + timedelta(minutes=1), press=press)
    assert press.history is False


async def test_the_periods_of_a_plan_are_the_shared_walk_over_the_provinces_copy():
    uow = await history_world()
    at = NOW + timedelta(days=90)
    walk = await periods.periods(uow, province="30", plan_id=None, now=at)
    assert walk == plan_periods(TRACKED_FROM_JULY, TZ, at)
    # 16 September 2019: June is history, July and August closed, September past its deadline, October open.
    assert [s.state for s in walk] == ["history", "closed", "closed", "overdue", "open"]
    one = await periods.period(uow, address=ReportAddress("30", "2019-05"), now=at)
    assert one.state == "outside_plan"
