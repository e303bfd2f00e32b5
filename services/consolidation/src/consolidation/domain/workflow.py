"""The report's workflow: draft -> approved -> published, and back (pure rules, domain errors).

`revision` counts the content: 1 + the sum of the units' latest versions, so a rebuild from the topics
arrives at the same number, and an approval records the revision it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consolidation.domain.errors import StepNotAllowed

TRANSITIONS = {
    "approve": ({"draft"}, "approved"),
    "publish": ({"approved"}, "published"),
    "reopen": ({"published"}, "draft"),
    "revert": ({"approved"}, "draft"),
}
LABELS = {"draft": "dự thảo", "approved": "đã duyệt", "published": "đã gửi lên"}


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


def allows(action: str, current: str) -> bool:
    return current in TRANSITIONS[action][0]


def next_status(action: str, current: str) -> str:
    """The status after `action`, or StepNotAllowed saying why it cannot happen now."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise StepNotAllowed(action=action, status=current, status_label=LABELS.get(current, current), allowed=allowed)
    return target


def revision(version_sum: int) -> int:
    """The content's revision from the sum of the units' latest versions (1 before any report)."""
    return 1 + int(version_sum)
