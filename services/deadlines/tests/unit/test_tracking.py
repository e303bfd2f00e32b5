"""Which periods deadlines tracks and when they close: the shared truth (baocao_shared.periods), checked without
PostgreSQL, and the opening of a plan tracked since 2019 as its start of tracking moves."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from baocao_shared.calendar import parse_period
from baocao_shared.events.catalog import CalendarV1
from baocao_shared.periods import closes_at, plan_periods
from baocao_testing.samples import PLAN_467_CALENDAR
from deadlines.domain.schedule import period_notices
from deadlines.domain.timeliness import after_close, counts_after_close, standing
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


def opened(uow) -> list[str]:
    return sorted(key[2] for key in uow.periods.rows)


async def test_the_periods_opened_are_the_tracked_ones_from_the_start_of_tracking():
    uow, plan = await hai_duong(["CA"])
    await catalog.plan_upserted(uow, plan.model_copy(update={"tracking_from": "2024-01"}))
    await open_due_periods(uow, now=DEC_2026)
    assert len(opened(uow)) == 36 and opened(uow)[0] == "2024-01" and opened(uow)[-1] == "2026-12"
    closing = {i.period for i in uow.schedule.items if i.kind == "close" and i.state == "pending"}
    assert closing == set(opened(uow))  # each closes once; only December is still open
    closes = ("close", "national_close")  # the units' close and the national close of the province's report
    assert {i.period for i in uow.schedule.items if i.kind not in closes and i.state == "pending"} == {"2026-12"}

    later, _ = await hai_duong(["CA"])
    await catalog.plan_upserted(later, plan.model_copy(update={"tracking_from": "2027-01"}))
    assert await open_due_periods(later, now=DEC_2026) == [] and opened(later) == []


@settings(max_examples=40, deadline=None)
@given(
    first=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    then=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=200)),
    start=st.sampled_from([None, "2019-01", "2021-01"]),  # 2019-01: before the plan's first period
)
def test_tick_after_tick_the_periods_opened_are_the_shared_tracked_ones(first, then, start):
    """Whatever the instants, the periods opened are exactly the tracked ones of baocao_shared.periods: at the
    plan's first look (changed) and at a later tick that looks only after the newest period opened."""
    plan = PLAN_467.model_copy(update={"units": ["CA"], "tracking_from": start, "last_period": "2028-06"})

    def shared(now: datetime) -> list[str]:
        return [s.period for s in plan_periods(plan, TZ, now) if s.tracked]

    async def ticks() -> None:
        uow, _ = await hai_duong(["CA"])
        await catalog.plan_upserted(uow, plan)
        await open_due_periods(uow, now=first)
        assert opened(uow) == shared(first) and not uow.catalog.changed
        new = await open_due_periods(uow, now=first + then)
        assert opened(uow) == shared(first + then)
        assert [code for _, _, code in new] == [code for code in shared(first + then) if code not in shared(first)]
        assert await open_due_periods(uow, now=first + then) == []

    asyncio.run(ticks())


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
    assert {k for p, k in pending if p < "2026-11"} == {"close", "national_close"}
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
    again = [code for _, _, code in await open_due_periods(uow, now=DEC_2026)]
    # 2019-06 .. 2026-05 opened again, and the periods still in progress re-checked: December
    assert len(again) == 85 and again[0] == "2019-06" and again[-2:] == ["2026-05", "2026-12"]
    assert all(r.expected for r in uow.obligations.rows.values())
