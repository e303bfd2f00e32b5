"""Open periods: one obligation per active unit of the plan, and the period's schedule rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from baocao_shared.calendar import Period, cutoff_window, local_date, period_containing
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.schedule import deadline, period_notices, skipped_at_opening, unit_notices
from deadlines.handlers.submissions import announce_first_submissions


def candidate_periods(plan: PlanV1, timezone: str, now: datetime, *, backfill: int = 0) -> list[Period]:
    """The plan's current period and the ones before it that can still close; with `backfill`, also
    that many past periods even if closed (their past notices are skipped, their close fires at once)."""
    periods = [period_containing(local_date(now, timezone), plan.calendar)]
    for _ in range(max(backfill, 1)):
        window_start, _ = cutoff_window(periods[0], plan.calendar)
        periods.insert(0, period_containing(window_start - timedelta(days=1), plan.calendar))
    found = []
    for index, period in enumerate(periods):
        if period.code < plan.first_period or (plan.last_period and period.code > plan.last_period):
            continue
        closes = max(n.fire_at for n in period_notices(period, plan.calendar, timezone) if n.kind == "close")
        if closes > now or index >= len(periods) - 1 - backfill:
            found.append(period)
    return found


async def open_due_periods(uow: DeadlinesUnitOfWork, *, now: datetime, backfill: int = 0) -> list[tuple[str, str, str]]:
    """Open every candidate period not yet opened, and re-check plans whose catalogue changed."""
    opened = []
    plans = [
        (plan, province, changed, candidate_periods(plan, province.timezone, now, backfill=backfill))
        for plan, province, changed in await uow.catalog.plans_to_open()
    ]
    known = await uow.periods.opened_among({period.code for *_, periods in plans for period in periods})
    for plan, province, changed, periods in plans:
        for period in periods:
            if changed or (plan.province, plan.id, period.code) not in known:
                await ensure_period(uow, plan, province, period, now=now)
                opened.append((plan.province, plan.id, period.code))
        if changed:
            await uow.catalog.checked(plan)
    return opened


async def ensure_period(
    uow: DeadlinesUnitOfWork, plan: PlanV1, province: ProvinceV1, period: Period, *, now: datetime
) -> None:
    """Idempotent: the period row, an obligation per unit that owes it, and the schedule."""
    due = deadline(period, plan.calendar, province.timezone)
    opened = await uow.periods.open(plan.province, plan.id, period.code, due_at=due, now=now)
    _, window_end = cutoff_window(period, plan.calendar)
    await uow.obligations.owe_period(plan, period.code, due=due, window_end=window_end, reopened=not opened)
    await _ensure_schedule(uow, plan, province, period, now)
    await announce_first_submissions(uow, plan.province, plan.id, period.code, now=now)


async def _ensure_schedule(
    uow: DeadlinesUnitOfWork, plan: PlanV1, province: ProvinceV1, period: Period, now: datetime
) -> None:
    """One row per (kind, sequence); a notice already past when the period opens is skipped, not sent late."""
    notices = {(n.kind, n.sequence): n for n in unit_notices(period, plan.calendar, province.timezone)}
    notices |= {(n.kind, n.sequence): n for n in period_notices(period, plan.calendar, province.timezone)}
    rows = [
        {
            "province": plan.province,
            "plan_id": plan.id,
            "period": period.code,
            "kind": notice.kind,
            "sequence": notice.sequence,
            "day_offset": notice.day_offset,
            "fire_at": notice.fire_at,
            "state": "skipped" if skipped_at_opening(notice, now) else "pending",
        }
        for notice in notices.values()
    ]
    await uow.schedule.add(rows)
