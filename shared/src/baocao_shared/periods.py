"""Which periods of a plan exist, and where each one stands: one answer for every service.

Intake decides what it accepts, deadlines what is owed and tracked, consolidation what a report covers;
all three ask `standing` here, over the same plan, province time zone and instant, so they cannot
disagree about a period (issue 17). Pure functions: nothing here reads a clock or a database.

A period of a plan is, at an instant, one of:

- ``outside_plan``: before the plan's first period or after its last one;
- ``history``: before the province's start of tracking. Not owed, never overdue; the staff office may
  import a unit's report for it, marked as imported;
- ``not_open``: its data window has not opened yet;
- ``open``: the window is open and the deadline has not passed;
- ``overdue``: past the deadline, before the close; a report is still accepted (late);
- ``closed``: past the close. ``missing`` is final; intake refuses new reports and amendments unless
  the province's office granted the unit an exception for the period.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from baocao_shared.calendar import (
    Period,
    PeriodError,
    cutoff_window,
    due_at,
    due_date,
    local_date,
    parse_period,
    period_containing,
    period_month,
    period_months,
    window_opens_at,
)
from baocao_shared.events.catalog import CalendarV1, PlanV1

State = Literal["outside_plan", "history", "not_open", "open", "overdue", "closed"]
STATES: tuple[State, ...] = ("outside_plan", "history", "not_open", "open", "overdue", "closed")
# The states in which a unit's obligation exists (deadlines tracks it; the report counts it).
TRACKED: frozenset[str] = frozenset({"open", "overdue", "closed"})
# The states in which a unit may send or amend its report without an exception.
ACCEPTING: frozenset[str] = frozenset({"open", "overdue"})

STATE_LABELS: dict[str, str] = {
    "outside_plan": "Ngoài kế hoạch",
    "history": "Trước khi theo dõi (số liệu lịch sử)",
    "not_open": "Chưa mở",
    "open": "Đang mở",
    "overdue": "Quá hạn, chưa khóa sổ",
    "closed": "Đã khóa sổ",
}


def tracking_from(plan: PlanV1) -> str:
    """The province's first tracked period of the plan: its data, or the plan's first period."""
    return plan.tracking_from or plan.first_period


def closes_at(period: Period, calendar: CalendarV1, timezone: str) -> datetime:
    """The close, as a UTC instant: the plan's close notice, `close.days` after the last day before the
    deadline (the 25th for plan 467), at `close.at` local time. From then on `missing` is final."""
    last_day = due_date(period, calendar) - timedelta(days=1)
    hours, minutes = (int(x) for x in calendar.close.at.split(":"))
    day = last_day + timedelta(days=max(calendar.close.days))
    return datetime.combine(day, time(hours, minutes), ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True)
class PeriodStanding:
    """Where one period of a plan stands at an instant, with the instants that decide it."""

    plan_id: str
    period: str
    state: State
    tracking_from: str
    opens_at: datetime | None
    due_at: datetime | None
    closes_at: datetime | None

    @property
    def tracked(self) -> bool:
        """Units owe it: deadlines has obligations for it, its report counts them."""
        return self.state in TRACKED

    @property
    def accepting(self) -> bool:
        """A unit may send or amend its report (without an exception)."""
        return self.state in ACCEPTING

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    def as_dict(self) -> dict:
        return {
            "plan_id": self.plan_id,
            "period": self.period,
            "state": self.state,
            "label": self.label,
            "tracked": self.tracked,
            "accepting": self.accepting,
            "tracking_from": self.tracking_from,
            "opens_at": self.opens_at,
            "due_at": self.due_at,
            "closes_at": self.closes_at,
        }


def in_plan(plan: PlanV1, code: str) -> bool:
    """The period lies within the plan's first and last periods, compared by months (calendar.period_months), so a
    quarterly plan's 2019-Q2 is in a plan whose first period is the month 2019-06."""
    first, last = period_months(code)
    return last >= period_months(plan.first_period)[0] and (
        plan.last_period is None or first <= period_month(plan.last_period)
    )


def before_tracking(plan: PlanV1, code: str) -> bool:
    """The period ends before the province's start of tracking: history."""
    return period_month(code) < period_months(tracking_from(plan))[0]


def standing(plan: PlanV1, code: str, timezone: str, now: datetime) -> PeriodStanding:
    """Where the period `code` of `plan` stands at `now`. Raises PeriodError for a code that is not a
    period of the plan's frequency."""
    period = parse_period(code, plan.calendar.frequency)
    start = tracking_from(plan)
    opens = window_opens_at(period, plan.calendar, timezone)
    due = due_at(period, plan.calendar, timezone)
    closes = closes_at(period, plan.calendar, timezone)
    if not in_plan(plan, code):
        state: State = "outside_plan"
    elif before_tracking(plan, code):
        state = "history"
    elif now < opens:
        state = "not_open"
    elif now < due:
        state = "open"
    elif now < closes:
        state = "overdue"
    else:
        state = "closed"
    return PeriodStanding(plan.id, code, state, start, opens, due, closes)


def periods_between(plan: PlanV1, first: str, last: str) -> Iterator[Period]:
    """The plan's periods from the one holding `first`'s first month to the one holding `last`'s last month, oldest
    first (`first` and `last` are months or period codes)."""
    calendar = plan.calendar
    start, end = period_months(first)[0], period_month(last)
    year, month = (int(x) for x in start.split("-"))
    period = period_containing(date(year, month, 1) - timedelta(days=31), calendar)
    while period_months(period.code)[0] <= end:
        if period_month(period.code) >= start:
            yield period
        _, window_end = cutoff_window(period, calendar)
        period = period_containing(window_end + timedelta(days=1), calendar)


def current_period(plan: PlanV1, timezone: str, now: datetime) -> Period:
    """The period whose data window holds today (local)."""
    return period_containing(local_date(now, timezone), plan.calendar)


def last_listed(plan: PlanV1, timezone: str, now: datetime) -> str:
    """The newest period worth listing at `now`: the one open now, or the plan's last period if it ended."""
    current = current_period(plan, timezone, now).code
    if plan.last_period and period_month(plan.last_period) < period_month(current):
        return plan.last_period
    return current


def plan_periods(plan: PlanV1, timezone: str, now: datetime, *, since: str | None = None) -> list[PeriodStanding]:
    """Every period of the plan from its first (or the one holding `since`, a month or period code, when later) to
    the one open now, oldest first, with its standing. A plan that ended stops at its last period."""
    first = plan.first_period
    if since is not None and period_months(since)[0] > period_months(first)[0]:
        first = since
    last = last_listed(plan, timezone, now)
    return [standing(plan, p.code, timezone, now) for p in periods_between(plan, first, last)]


def past_periods(plan: PlanV1, timezone: str, now: datetime, count: int) -> list[str]:
    """The `count` most recent periods of the plan whose units' deadline has passed at `now`, oldest first (the
    demo's past months)."""
    period = current_period(plan, timezone, now)
    found: list[str] = []
    while len(found) < count and period_months(period.code)[0] >= period_months(plan.first_period)[0]:
        if due_at(period, plan.calendar, timezone) <= now:
            found.insert(0, period.code)
        start, _ = cutoff_window(period, plan.calendar)
        period = period_containing(start - timedelta(days=1), plan.calendar)
    return found


__all__ = [
    "ACCEPTING",
    "STATES",
    "STATE_LABELS",
    "TRACKED",
    "PeriodError",
    "PeriodStanding",
    "State",
    "before_tracking",
    "closes_at",
    "current_period",
    "in_plan",
    "last_listed",
    "past_periods",
    "periods_between",
    "plan_periods",
    "standing",
    "tracking_from",
]
