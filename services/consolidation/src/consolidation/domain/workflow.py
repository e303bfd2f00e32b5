"""The report's workflow: draft -> approved -> published -> accepted, and back (pure rules, domain errors).

The national office answers a published report: it accepts it (final: no reopen, no return) or returns it
to the province as a draft, with a reason; published again, it goes up under a new number.

`revision` counts the content: 1 + the sum of the units' latest versions, so a rebuild from the topics
arrives at the same number, and an approval records the revision it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consolidation.domain.errors import ReportAlreadyAccepted, ReturnReasonInvalid, StepNotAllowed

TRANSITIONS = {
    "approve": ({"draft"}, "approved"),
    "publish": ({"approved"}, "published"),
    "reopen": ({"published"}, "draft"),
    "revert": ({"approved"}, "draft"),
    "accept": ({"published"}, "accepted"),
    "return": ({"published"}, "draft"),
}
LABELS = {"draft": "dự thảo", "approved": "đã duyệt", "published": "đã gửi lên", "accepted": "đã tiếp nhận"}
SENT_UP = frozenset({"published", "accepted"})  # a snapshot went up: the document is frozen, the period locked


@dataclass(frozen=True)
class ReportState:
    """The stored workflow of one report; `content` is the snapshot sent up when published."""

    province: str
    plan_id: str
    period: str
    status: str
    revision: int
    status_reason: str | None = None
    status_at: datetime | None = None  # when this state was reached
    approved_at: datetime | None = None
    approved_by: str | None = None
    published_at: datetime | None = None
    published_by: str | None = None
    content: dict[str, Any] | None = None
    version: int = 0  # counts the office's edits of its sections
    returned_at: datetime | None = None  # the national office returned it (while a draft again)
    returned_by: str | None = None
    returned_reason: str | None = None
    accepted_at: datetime | None = None  # the national office accepted it (final)
    accepted_by: str | None = None


def allows(action: str, current: str) -> bool:
    return current in TRANSITIONS[action][0]


def next_status(action: str, current: str) -> str:
    """The status after `action`, or StepNotAllowed saying why it cannot happen now."""
    allowed, target = TRANSITIONS[action]
    if current == "accepted":
        raise ReportAlreadyAccepted(action=action)
    if current not in allowed:
        raise StepNotAllowed(action=action, status=current, status_label=LABELS.get(current, current), allowed=allowed)
    return target


RETURN_REASON_CHARS = (3, 500)


def return_reason(text: str) -> str:
    """The national office's reason for returning a report, trimmed; too short or too long refuses."""
    reason = " ".join(text.split())
    low, high = RETURN_REASON_CHARS
    if not low <= len(reason) <= high:
        raise ReturnReasonInvalid(low=low, high=high, length=len(reason))
    return reason


def returned_note(reason: str) -> str:
    """What the report says of itself while the province reworks it."""
    return f"Trả lại: {reason}"


def revision(version_sum: int) -> int:
    """The content's revision from the sum of the units' latest versions (1 before any report)."""
    return 1 + int(version_sum)
