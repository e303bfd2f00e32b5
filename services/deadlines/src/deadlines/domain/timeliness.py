"""Timeliness of one obligation and the figures of a period (in the style of DHIS2's reporting rate).

- pending: the deadline has not passed and nothing has arrived;
- on_time: the first accepted submission arrived before due_at;
- late: it arrived at or after due_at;
- missing: the deadline has passed and nothing has arrived (final once the period closes).

A first submission after the close does not count, unless the province's office granted the unit an exception
(the submission says `after_close`): then it counts as late, and is shown as sent after the close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

STATUSES = ("on_time", "late", "missing", "pending")


def classify(*, due_at: datetime, first_submitted_at: datetime | None, now: datetime) -> str:
    if first_submitted_at is not None:
        return "on_time" if first_submitted_at < due_at else "late"
    return "missing" if now >= due_at else "pending"


def late_by_s(*, due_at: datetime, first_submitted_at: datetime | None) -> int | None:
    """Seconds past the deadline of a late submission; None when on time or absent."""
    if first_submitted_at is None or first_submitted_at < due_at:
        return None
    return int((first_submitted_at - due_at).total_seconds())


def counts_after_close(*, submitted_at: datetime | None, closed_at: datetime | None, excepted: bool = False) -> bool:
    """A submission counts for timeliness unless it came after the period closed without an exception
    (`excepted`: the office let the unit send after the close)."""
    return submitted_at is not None and (excepted or closed_at is None or submitted_at < closed_at)


def after_close(*, first_submitted_at: datetime | None, closed_at: datetime | None, excepted: bool) -> bool:
    """The counted first submission came after the close, under the office's exception (late after close)."""
    return excepted and first_submitted_at is not None and closed_at is not None and first_submitted_at >= closed_at


def standing(
    *,
    due_at: datetime,
    first_submitted_at: datetime | None,
    closed_at: datetime | None,
    now: datetime,
    excepted: bool = False,
) -> tuple[str, datetime | None]:
    """The obligation's status at `now`, and the first submission that counts for it (none after the close,
    unless `excepted`)."""
    counts = counts_after_close(submitted_at=first_submitted_at, closed_at=closed_at, excepted=excepted)
    first = first_submitted_at if counts else None
    return classify(due_at=due_at, first_submitted_at=first, now=now), first


def awaited(status: str) -> bool:
    """Nothing counted yet (pending or missing): whom a reminder or an overdue notice goes to."""
    return status in ("pending", "missing")


def summarize(statuses: Iterable[str]) -> dict[str, float | int]:
    counts = Counter(statuses)
    expected = sum(counts.values())
    reported = counts["on_time"] + counts["late"]
    return {
        "expected": expected,
        **{status: counts[status] for status in STATUSES},
        "reporting_rate": round(reported / expected, 4) if expected else 0.0,
        "on_time_rate": round(counts["on_time"] / expected, 4) if expected else 0.0,
    }
