"""How notices say times, periods and lateness in Vietnamese (pure rules, no I/O)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def local_time(instant: datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """'00:00 ngày 16/06/2019': the instant on the province's wall clock."""
    local = instant.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def period_label(period: str) -> str:
    """'tháng 06/2019' for a monthly period; other periods are shown as given."""
    year, sep, month = period.partition("-")
    if sep and month.isdigit() and len(month) == 2:
        return f"tháng {month}/{year}"
    return period


def lateness(late_by_s: int | None) -> str | None:
    """'đã quá hạn 2 ngày' (or hours, then minutes, when less than a day)."""
    if late_by_s is None or late_by_s <= 0:
        return None
    days, rest = divmod(late_by_s, 86400)
    if days:
        return f"đã quá hạn {days} ngày"
    hours = rest // 3600
    if hours:
        return f"đã quá hạn {hours} giờ"
    return f"đã quá hạn {max(rest // 60, 1)} phút"
