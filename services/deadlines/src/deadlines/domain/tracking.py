"""Which periods of a plan deadlines tracks: exactly the ones baocao_shared.periods says are tracked (open,
overdue or closed), from the province's start of tracking up to the period open now. Periods before the start of
tracking are history: nobody owes them, they get no reminders, no overdue notices and no close."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.calendar import Period
from baocao_shared.events.catalog import PlanV1
from baocao_shared.periods import State, in_plan, last_listed, periods_between, standing, tracking_from


def tracked_periods(plan: PlanV1, timezone: str, now: datetime) -> list[tuple[Period, State]]:
    """Every tracked period of the plan at `now`, oldest first, with its state. Bounded by the calendar: a monthly
    plan tracked since 2019 has about 90 at the end of 2026. The scheduler asks every tick, so the standing is
    computed from the newest period back only until one is closed: a period is never less advanced than a newer
    one (baocao_shared.periods), so every tracked period older than a closed one is closed too."""
    last = last_listed(plan, timezone, now)
    found: list[tuple[Period, State]] = []
    closed = False
    for period in reversed(list(periods_between(plan, tracking_from(plan), last))):
        known = closed and in_plan(plan, period.code)  # (a tracking_from before the plan is outside it)
        state: State = "closed" if known else standing(plan, period.code, timezone, now).state
        closed = state == "closed"
        if state in ("open", "overdue", "closed"):
            found.append((period, state))
    return found[::-1]
