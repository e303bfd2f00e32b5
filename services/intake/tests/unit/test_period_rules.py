"""Where a period stands decides what intake accepts from a unit (baocao_shared.periods, one answer): pure rules
and the use cases on the fake unit of work. Plan 467: due before the 16th, closed on the 25th, Hải Dương's time."""

from datetime import UTC, datetime

import pytest

from baocao_shared import periods
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.principal import Principal, Role
from intake.domain import submissions as rules
from intake.domain.errors import (
    MayNotOperateProvince,
    PeriodClosed,
    PeriodIsHistory,
    PeriodNotClosed,
    PeriodNotHistory,
    ReasonRequired,
    UnknownUnit,
)
from intake.domain.models import ImportIn, SubmissionIn
from intake.handlers import periods as period_cases
from intake.handlers import submissions
from intake.web import views

TZ = "Asia/Ho_Chi_Minh"
AUGUST_1 = datetime(2019, 8, 1, 3, tzinfo=UTC)  # 2019-06 and 2019-07 closed, 2019-08 open


def at(plan, period, now=AUGUST_1):
    return periods.standing(plan, period, TZ, now)


def test_check_period_keeps_its_422_problems_and_leaves_history_and_closed_to_the_409s(hai_duong):
    plan = hai_duong.plans[0]
    assert rules.check_period(plan, "2019-6", TZ, AUGUST_1) == (None, [rules.FieldProblem(
        ("period",), "Kỳ báo cáo '2019-6' không đúng dạng (ví dụ 2019-06).", "period_format"
    )])  # fmt: skip
    for period, state, problem in [
        ("2019-05", "outside_plan", ["period_outside_plan"]),
        ("2019-09", "not_open", ["period_not_open"]),
        ("2019-07", "closed", []),  # closed: a 409, not a field problem
    ]:
        found, problems = rules.check_period(plan, period, TZ, AUGUST_1)
        assert found == at(plan, period) and found.state == state
        assert [p.type for p in problems] == problem


def test_a_closed_period_needs_an_exception_and_a_history_one_is_the_offices(hai_duong):
    plan = hai_duong.plans[0]
    with pytest.raises(PeriodClosed) as closed:
        rules.unit_may_report(at(plan, "2019-07"), timezone=TZ, excepted=False)
    assert closed.value.code == "period_closed" and "đã khóa sổ ngày 25/07/2019" in closed.value.message
    assert closed.value.details["closes_at"] == datetime(2019, 7, 24, 17, tzinfo=UTC)
    assert rules.unit_may_report(at(plan, "2019-07"), timezone=TZ, excepted=True) is True  # after_close
    assert rules.unit_may_report(at(plan, "2019-08"), timezone=TZ, excepted=False) is False
    tracked_later = plan.model_copy(update={"tracking_from": "2019-07"})
    with pytest.raises(PeriodIsHistory) as history:
        rules.unit_may_report(at(tracked_later, "2019-06"), timezone=TZ, excepted=True)
    assert history.value.code == "period_history"
    rules.office_may_import(at(tracked_later, "2019-06"))
    with pytest.raises(PeriodNotHistory):
        rules.office_may_import(at(tracked_later, "2019-07"))
    rules.may_grant_exception(at(plan, "2019-07"))
    with pytest.raises(PeriodNotClosed):
        rules.may_grant_exception(at(plan, "2019-08"))


FIGURES = {"t1_sessions": 1, "t1_participants": 2, "t2_campaigns": 0, "t2_publications": 0, "t3_updates_sent": 0,
           "t4_domestic_delegations": 0, "t4_foreign_delegations": 0, "t5_articles": 0, "t5_rebuttals": 0}  # fmt: skip
OFFICE = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")


async def test_a_unit_reports_a_closed_period_under_an_exception_marked_after_close(uow, as_reporter, hai_duong):
    plan = hai_duong.plans[0]
    body = SubmissionIn(plan_id=plan.id, unit="CA", period="2019-07", values=FIGURES)
    with pytest.raises(PeriodClosed):
        await submissions.submit(uow, principal=as_reporter("CA"), body=body, now=AUGUST_1)
    with pytest.raises(MayNotOperateProvince):
        await period_cases.grant_exception(
            uow, principal=as_reporter("CA"), province="30", plan_id=None, period="2019-07", unit="CA", reason="x",
            now=AUGUST_1,
        )  # fmt: skip
    with pytest.raises(ReasonRequired):
        await period_cases.grant_exception(
            uow, principal=OFFICE, province="30", plan_id=None, period="2019-07", unit="CA", reason=" ", now=AUGUST_1
        )
    with pytest.raises(UnknownUnit):
        await period_cases.grant_exception(
            uow, principal=OFFICE, province="30", plan_id=None, period="2019-07", unit="X", reason="y", now=AUGUST_1
        )
    await period_cases.grant_exception(
        uow, principal=OFFICE, province="30", plan_id=None, period="2019-07", unit="CA", reason="bổ sung", now=AUGUST_1
    )
    await submissions.submit(uow, principal=as_reporter("CA"), body=body, now=AUGUST_1)
    [event] = uow.events_of(SUBMISSION_RECEIVED)
    assert event.after_close is True and event.imported is False


async def test_the_office_imports_a_history_period_marked_imported(uow, hai_duong):
    plan = hai_duong.plans[0]
    await period_cases.set_tracking(
        uow, principal=OFFICE, province="30", plan_id=plan.id, tracking_from="2019-07", now=AUGUST_1
    )
    body = ImportIn(unit="CA", values=FIGURES)
    with pytest.raises(PeriodNotHistory):
        await period_cases.import_history(
            uow, principal=OFFICE, province="30", plan_id=None, period="2019-08", body=body, now=AUGUST_1
        )
    receipt = await period_cases.import_history(
        uow, principal=OFFICE, province="30", plan_id=None, period="2019-06", body=body, now=AUGUST_1
    )
    again = await period_cases.import_history(
        uow, principal=OFFICE, province="30", plan_id=None, period="2019-06", body=body, now=AUGUST_1
    )
    assert (receipt.version, again.version, again.id) == (1, 2, receipt.id)
    imported = uow.events_of(SUBMISSION_RECEIVED) + uow.events_of(SUBMISSION_AMENDED)
    assert [(e.imported, e.submitted_by) for e in imported] == [(True, "op-30"), (True, "op-30")]


def test_the_home_keeps_the_periods_open_and_the_twelve_newest(hai_duong):
    plan = hai_duong.plans[0]
    now = datetime(2021, 3, 1, 3, tzinfo=UTC)
    rows = views.period_rows(plan, TZ, now, {}, set(), {"2019-06"})
    shown, hidden = views.shown_rows(rows, show_all=False)
    assert len(rows) == 22 and len(shown) == 13 and hidden == 9
    assert shown[-1].period == "2019-06" and shown[-1].can_report and shown[-1].status.startswith("Đã khóa sổ")
    assert {r.status for r in rows if r.period not in ("2021-03", "2019-06")} == {"Đã khóa sổ, chưa nộp"}
    history = views.period_rows(plan.model_copy(update={"tracking_from": "2020-01"}), TZ, now, {}, set())
    assert {(r.status, r.can_report) for r in history if r.period < "2020-01"} == {("Số liệu lịch sử", False)}
