"""Which periods of a plan deadlines tracks: exactly the ones baocao_shared.periods says are tracked (open,
overdue or closed), from the province's start of tracking up to the period open now. Periods before the start of
tracking are history: nobody owes them, they get no reminders, no overdue notices and no close."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.calendar import Period
from baocao_shared.events.catalog import PlanV1
from baocao_shared.periods import PeriodStanding, current_period, periods_between, standing, tracking_from


def tracked_periods(plan: PlanV1, timezone: str, now: datetime) -> list[tuple[Period, PeriodStanding]]:
    """Every tracked period of the plan at `now`, oldest first, with its standing. Bounded by the calendar: a
    monthly plan tracked since 2019 has about 90 at the end of 2026."""
    last = current_period(plan, timezone, now).code
    if plan.last_period and plan.last_period < last:
        last = plan.last_period
    found = []
    for period in periods_between(plan, tracking_from(plan), last):
        where = standing(plan, period.code, timezone, now)
        if where.tracked:
            found.append((period, where))
    return found
