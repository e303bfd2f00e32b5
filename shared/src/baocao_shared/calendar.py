"""The reporting calendar as pure functions (Decree 09/2019/NĐ-CP, Arts. 8 and 12).

A period names the months it reports on: `2019-06` (monthly), `2019-Q2`, `2019-H1`, `2019-Y`.
Its data cut-off window runs from the plan's cut-off day of the month before its first month to
the day before the cut-off day of its last month (15th to 14th for plan 467). `due_at` is 00:00
local time on the due day, exclusive, moved to the next working day when the plan says so.
Everything here takes the plan's `CalendarV1` and returns UTC instants; nothing reads a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from baocao_shared.events.catalog import CalendarV1

_PATTERNS = {
    "monthly": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarterly": re.compile(r"^(\d{4})-Q([1-4])$"),
    "six_monthly": re.compile(r"^(\d{4})-H([12])$"),
    "yearly": re.compile(r"^(\d{4})-Y$"),
}
_MONTHS_PER = {"monthly": 1, "quarterly": 3, "six_monthly": 6, "yearly": 12}


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """A reporting period (kỳ báo cáo): its last month and how many months it spans."""

    code: str
    year: int
    last_month: int
    months: int

    @property
    def first_month(self) -> tuple[int, int]:
        return _add_months(self.year, self.last_month, -(self.months - 1))


def parse_period(code: str, frequency: str = "monthly") -> Period:
    match = _PATTERNS[frequency].match(code)
    if not match:
        examples = {"monthly": "2019-06", "quarterly": "2019-Q2", "six_monthly": "2019-H1", "yearly": "2019-Y"}
        raise PeriodError(f"period {code!r} is not a {frequency} period like {examples[frequency]}")
    year = int(match.group(1))
    months = _MONTHS_PER[frequency]
    index = int(match.group(2)) if frequency in ("monthly", "quarterly", "six_monthly") else 1
    last_month = index * months if frequency != "monthly" else index
    return Period(code=code, year=year, last_month=last_month, months=months)


@lru_cache(maxsize=4096)
def period_months(code: str) -> tuple[str, str]:
    """The first and last month ("YYYY-MM") of any period code, whatever the frequency its form names: 2025-06,
    2025-Q3 (07..09), 2025-H1 (01..06), 2025-Y (01..12). Months order as text, so a plan's bounds (months) and
    periods of any frequency compare through them. PeriodError for a code of no frequency."""
    frequency = next((f for f, pattern in _PATTERNS.items() if pattern.match(code)), None)
    if frequency is None:
        raise PeriodError(f"period {code!r} is not a period code like 2019-06, 2019-Q2, 2019-H1 or 2019-Y")
    period = parse_period(code, frequency)
    first_year, first_month = period.first_month
    return f"{first_year}-{first_month:02d}", f"{period.year}-{period.last_month:02d}"


def chronological(code: str) -> tuple[str, str]:
    """A sort key putting period codes of any frequency in time order: by the last month they cover, then the
    longer period first (2025-Q2 and 2025-H1 both end in 2025-06; text order would put 2025-06 before 2025-H1 and
    every quarter after every month of its year)."""
    first, last = period_months(code)
    return last, first


def period_month(code: str) -> str:
    """The last month of a period code (period_months)."""
    return period_months(code)[1]


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def cutoff_window(period: Period, calendar: CalendarV1) -> tuple[date, date]:
    """First and last local dates whose data the period's report covers (both inclusive)."""
    first_year, first_month = period.first_month
    start_year, start_month = _add_months(first_year, first_month, -1)
    start = date(start_year, start_month, calendar.cutoff_day)
    end = date(period.year, period.last_month, calendar.cutoff_day) - timedelta(days=1)
    return start, end


def is_working_day(day: date, calendar: CalendarV1) -> bool:
    return day.weekday() not in calendar.weekend_days and day not in set(calendar.holidays)


def due_date(period: Period, calendar: CalendarV1) -> date:
    """The local date at whose 00:00 a unit's report is late (the plan's policy applied)."""
    return _due_on(period, calendar, calendar.due_day)


def province_due_date(period: Period, calendar: CalendarV1) -> date:
    """The local date at whose 00:00 the province's consolidated report is late at the national office: the same
    month as the units' deadline (the period's last month plus `due_month_offset`) and the same policy for a
    non-working day, on `province_due_day` (DOMAIN.md, "The reporting calendar": "the province's consolidated
    report is due at the national office on the 20th"; Decree 09/2019/NĐ-CP Art. 8 §5: a report consolidated over
    several levels states a deadline for each level)."""
    return _due_on(period, calendar, calendar.province_due_day)


def _due_on(period: Period, calendar: CalendarV1, day: int) -> date:
    year, month = _add_months(period.year, period.last_month, calendar.due_month_offset)
    due = date(year, month, day)
    if calendar.non_working_day_policy == "next_working_day":
        # "Before the 16th" is met by the end of the last working day before it; when that day
        # (the 15th) is not a working day, the unit gets until the end of the next working day.
        last_day = due - timedelta(days=1)
        while not is_working_day(last_day, calendar):
            last_day += timedelta(days=1)
        due = last_day + timedelta(days=1)
    return due


def due_at(period: Period, calendar: CalendarV1, timezone: str) -> datetime:
    """The deadline as a UTC instant; a submission at or after it is late."""
    local = datetime.combine(due_date(period, calendar), time(0, 0), ZoneInfo(timezone))
    return local.astimezone(UTC)


def province_due_at(period: Period, calendar: CalendarV1, timezone: str) -> datetime:
    """The province's deadline at the national office as a UTC instant (00:00 local on province_due_date,
    exclusive): a report first published at or after it is late."""
    local = datetime.combine(province_due_date(period, calendar), time(0, 0), ZoneInfo(timezone))
    return local.astimezone(UTC)


def window_opens_at(period: Period, calendar: CalendarV1, timezone: str) -> datetime:
    """From this instant on, a unit may submit for the period."""
    start, _ = cutoff_window(period, calendar)
    return datetime.combine(start, time(0, 0), ZoneInfo(timezone)).astimezone(UTC)


def period_containing(day: date, calendar: CalendarV1) -> Period:
    """The monthly-style period whose cut-off window holds this local date."""
    months = _MONTHS_PER[calendar.frequency]
    year, month = (day.year, day.month) if day.day < calendar.cutoff_day else _add_months(day.year, day.month, 1)
    # Round the month up to the end of its quarter / half / year.
    index = (month - 1) // months
    last_month = (index + 1) * months
    code = {
        "monthly": f"{year}-{last_month:02d}",
        "quarterly": f"{year}-Q{index + 1}",
        "six_monthly": f"{year}-H{index + 1}",
        "yearly": f"{year}-Y",
    }[calendar.frequency]
    return parse_period(code, calendar.frequency)


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()
