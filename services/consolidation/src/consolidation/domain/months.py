"""The months the pages open on: local time in Việt Nam, periods written as 2019-06."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TIMEZONE = "Asia/Ho_Chi_Minh"  # the report carries no timezone; Việt Nam has one (UTC+7)
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"  # a monthly period


def month_of(now: datetime) -> str:
    """The local month of an instant, as a period: 2019-06."""
    return now.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m")


def recent_months(now: datetime, count: int = 6) -> list[str]:
    """This month and the ones before it, newest first."""
    local = now.astimezone(ZoneInfo(TIMEZONE))
    year, month = local.year, local.month
    found = []
    for _ in range(count):
        found.append(f"{year}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found
