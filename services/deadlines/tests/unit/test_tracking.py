"""Which periods deadlines tracks and when they close: the shared truth (baocao_shared.periods), checked without
PostgreSQL, and the opening of a plan tracked since 2019 as its start of tracking moves."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from baocao_shared.calendar import parse_period
from baocao_shared.events.catalog import CalendarV1
from baocao_shared.periods import closes_at, plan_periods
from baocao_testing.samples import PLAN_467_CALENDAR
from deadlines.domain.schedule import period_notices
from deadlines.domain.timeliness import after_close, counts_after_close, standing
from deadlines.domain.tracking import tracked_periods
from deadlines.handlers import catalog, compliance
from deadlines.handlers.periods import open_due_periods
from services.deadlines.tests.unit.fakes import HAI_DUONG, PLAN_467, hai_duong
from services.deadlines.tests.unit.strategies import calendar_settings

TZ = "Asia/Ho_Chi_Minh"
DEC_2026 = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo(TZ))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(TZ))


@given(
    settings=calendar_settings(),
    year=st.integers(2019, 2035),
    month=st.integers(1, 12),
    timezone=st.sampled_from([TZ, "UTC", "Asia/Tokyo"]),
)
def test_the_close_notice_fires_at_the_shared_close_instant(settings, year, month, timezone):
    calendar = CalendarV1.model_validate({**PLAN_467_CALENDAR, **settings})
    period = parse_period(f"{year}-{month:02d}", calendar.frequency)
    closes = [n.fire_at for n in period_notices(period, calendar, timezone) if n.kind == "close"]
    assert max(closes) == closes_at(period, calendar, timezone)


def test_plan_467_closes_on_the_25th():
    calendar = CalendarV1.model_validate(PLAN_467_CALENDAR)
    closes = [n.fire_at for n in period_notices(parse_period("2025-05", "monthly"), calendar, TZ) if n.kind == "close"]
    assert closes == [local(2025, 5, 25).astimezone(UTC)]


def test_the_tracked_periods_are_the_shared_tracked_ones_from_the_start_of_tracking():
    plan = PLAN_467.model_copy(update={"tracking_from": "2024-01"})
    tracked = tracked_periods(plan, TZ, DEC_2026)
    shared = [s.period for s in plan_periods(plan, TZ, DEC_2026) if s.tracked]
    assert [p.code for p, _ in tracked] == shared
    assert shared[0] == "2024-01" and shared[-1] == "2026-12" and len(shared) == 36
    assert {state for _, state in tracked[:-1]} == {"closed"} and tracked[-1][1] == "open"
    assert len(tracked_periods(PLAN_467, TZ, DEC_2026)) == 91  # 2019-06 .. 2026-12
    assert tracked_periods(PLAN_467.model_copy(update={"tracking_from": "2027-01"}), TZ, DEC_2026) == []


@given(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)))
def test_the_tracked_periods_and_their_states_are_the_shared_ones_at_any_instant(now):
    plan = PLAN_467.model_copy(update={"tracking_from": "2021-01", "last_period": "2028-06"})
    shared = [(s.period, s.state) for s in plan_periods(plan, TZ, now) if s.tracked]
    assert [(p.code, state) for p, state in tracked_periods(plan, TZ, now)] == shared
    early = PLAN_467.model_copy(update={"tracking_from": "2019-01"})  # before the plan's first period
    early_shared = [s.period for s in plan_periods(early, TZ, now) if s.tracked]
    assert [p.code for p, _ in tracked_periods(early, TZ, now)] == early_shared


def test_a_report_after_the_close_counts_only_under_an_exception_and_then_late():
    due, closed = local(2019, 6, 16), local(2019, 6, 25)
    sent = local(2019, 6, 26, 9)
    assert not counts_after_close(submitted_at=sent, closed_at=closed)
    assert counts_after_close(submitted_at=sent, closed_at=closed, excepted=True)
    plain = standing(due_at=due, first_submitted_at=sent, closed_at=closed, now=local(2019, 6, 27))
    excepted = standing(due_at=due, first_submitted_at=sent, closed_at=closed, now=local(2019, 6, 27), excepted=True)
    assert plain == ("missing", None) and excepted == ("late", sent)
    assert after_close(first_submitted_at=sent, closed_at=closed, excepted=True)
    # an exception for an amendment does not make a first report sent before the close "after the close"
    assert not after_close(first_submitted_at=local(2019, 6, 20), closed_at=closed, excepted=True)
    assert not after_close(first_submitted_at=sent, closed_at=closed, excepted=False)
    assert not after_close(first_submitted_at=sent, closed_at=None, excepted=True)


async def test_a_plan_tracked_since_2019_opens_every_period_and_a_later_start_makes_the_earlier_ones_history():
    uow, plan = await hai_duong(["CA", "BTG"])
    opened = await open_due_periods(uow, now=DEC_2026)
    assert len(opened) == 91 and opened[0][2] == "2019-06" and opened[-1][2] == "2026-12"
    assert await open_due_periods(uow, now=DEC_2026) == []  # nothing twice
    pending = {(i.period, i.kind) for i in uow.schedule.items if i.state == "pending"}
    # past notices are skipped; every closed period fires its close once
    assert {k for p, k in pending if p < "2026-11"} == {"close"}
    assert sum(1 for p, k in pending if k == "close") == 91

    await catalog.plan_upserted(uow, plan.model_copy(update={"tracking_from": "2026-06"}))
    await open_due_periods(uow, now=DEC_2026)
    assert min(key[2] for key in uow.periods.rows) == "2026-06"
    assert not any(r.expected for r in uow.obligations.rows.values() if r.period < "2026-06")
    assert min(i.period for i in uow.schedule.items) == "2026-06"
    moved = plan.model_copy(update={"tracking_from": "2026-06"})
    found = await compliance.period_compliance(
        uow, province=HAI_DUONG.province, plan=moved, period="2026-06", now=DEC_2026
    )
    assert found["final"] and found["summary"]["missing"] == 2

    await catalog.plan_upserted(uow, plan)  # back to the plan's first period: the history is tracked again
    assert len(await open_due_periods(uow, now=DEC_2026)) >= 84
    assert all(r.expected for r in uow.obligations.rows.values())
