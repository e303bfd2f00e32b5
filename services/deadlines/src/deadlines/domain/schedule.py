"""When each notice fires (DOMAIN.md, "Reminders and escalation"), as pure functions.

The "last day" is the local date of the last instant before due_at (the 15th for plan 467).
Every notice fires at the plan's send time on a day counted from the last day: reminders on
-3, -1 and 0, overdue notices on +1, +3 and +5, the escalation digest on +1, the close on +10.

The national level (issue 18 §1) runs the same offsets from the province's deadline at the national office
(baocao_shared.calendar.province_due_at: the 20th for plan 467, so its last day is the 19th): reminders and overdue
notices to the province's operators (`province_reminder`, `province_overdue`), one escalation digest to the national
office (`national_escalation`), and the national close (`national_close`: the plan's close offsets counted from the
province's last day, 00:00 on the 29th for plan 467), after which a province's `missing` is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from baocao_shared.calendar import Period, due_at, due_date, province_due_date
from baocao_shared.events.catalog import CalendarV1, NoticeScheduleV1

UNIT_KINDS = ("reminder", "overdue")
PERIOD_KINDS = ("escalation", "close")
# The national level's kinds, and the word their notices say (ProvinceNoticeV1.kind).
PROVINCE_KINDS = {"province_reminder": "reminder", "province_overdue": "overdue"}
NATIONAL_KINDS = ("national_escalation", "national_close")
CLOSES = ("close", "national_close")


@dataclass(frozen=True)
class Notice:
    kind: str  # reminder | overdue | escalation | close
    sequence: int
    day_offset: int
    fire_at: datetime  # UTC


def last_day(period: Period, calendar: CalendarV1) -> date:
    """The local date of the last instant before due_at."""
    return due_date(period, calendar) - timedelta(days=1)


def fire_instant(day: date, at: str, timezone: str) -> datetime:
    hours, minutes = (int(x) for x in at.split(":"))
    return datetime.combine(day, time(hours, minutes), ZoneInfo(timezone)).astimezone(UTC)


def _notices(kind: str, schedule: NoticeScheduleV1, last: date, timezone: str) -> list[Notice]:
    return [
        Notice(kind, sequence, offset, fire_instant(last + timedelta(days=offset), schedule.at, timezone))
        for sequence, offset in enumerate(sorted(schedule.days))
    ]


def unit_notices(period: Period, calendar: CalendarV1, timezone: str) -> list[Notice]:
    """Reminders and overdue notices of one obligation, in firing order."""
    last = last_day(period, calendar)
    found = _notices("reminder", calendar.reminders, last, timezone) + _notices(
        "overdue", calendar.overdue, last, timezone
    )
    return sorted(found, key=lambda n: n.fire_at)


def period_notices(period: Period, calendar: CalendarV1, timezone: str) -> list[Notice]:
    """The escalation digest(s) and the close of one plan's period."""
    last = last_day(period, calendar)
    return _notices("escalation", calendar.escalation, last, timezone) + _notices(
        "close", calendar.close, last, timezone
    )


def province_last_day(period: Period, calendar: CalendarV1) -> date:
    """The local date of the last instant before the province's deadline at the national office."""
    return province_due_date(period, calendar) - timedelta(days=1)


def province_notices(period: Period, calendar: CalendarV1, timezone: str) -> list[Notice]:
    """The national level's notices of one province's period, from the province's last day: reminders and overdue
    notices to its operators, the escalation digest to the national office and the national close."""
    last = province_last_day(period, calendar)
    found = (
        _notices("province_reminder", calendar.reminders, last, timezone)
        + _notices("province_overdue", calendar.overdue, last, timezone)
        + _notices("national_escalation", calendar.escalation, last, timezone)
        + _notices("national_close", calendar.close, last, timezone)
    )
    return sorted(found, key=lambda n: n.fire_at)


def deadline(period: Period, calendar: CalendarV1, timezone: str) -> datetime:
    return due_at(period, calendar, timezone)


# Within one period, rows due at the same instant fire in this order.
KIND_ORDER = {
    "reminder": 0,
    "overdue": 1,
    "escalation": 2,
    "close": 3,
    "province_reminder": 4,
    "province_overdue": 5,
    "national_escalation": 6,
    "national_close": 7,
}
# A notice whose instant passed more than this before its period opened is skipped, not sent late.
LATE_OPENING = timedelta(minutes=1)


def skipped_at_opening(notice: Notice, opened_at: datetime) -> bool:
    """A notice already in the past when the period opens is skipped; a close always fires."""
    return notice.kind not in CLOSES and notice.fire_at < opened_at - LATE_OPENING


def reminds_now(kind: str, *, due_at: datetime, now: datetime) -> bool:
    """A reminder fired at or after due_at is too late to remind: the overdue notices take over."""
    return not (kind in ("reminder", "province_reminder") and now >= due_at)
