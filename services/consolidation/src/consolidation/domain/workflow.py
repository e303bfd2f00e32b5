"""The report's workflow: draft -> approved -> published, and back (pure rules, domain errors)."""

from __future__ import annotations

from baocao_shared.errors import Conflict

TRANSITIONS = {
    "approve": ({"draft"}, "approved"),
    "publish": ({"approved"}, "published"),
    "reopen": ({"published"}, "draft"),
    "revert": ({"approved"}, "draft"),
}
LABELS = {"draft": "dự thảo", "approved": "đã duyệt", "published": "đã gửi lên"}


def next_status(action: str, current: str) -> str:
    """The status after `action`, or Conflict saying why it cannot happen now."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        needs = " or ".join(sorted(allowed))
        raise Conflict(
            f"Cannot {action} a report that is {current} ({LABELS.get(current, current)}); it must be {needs}.",
            {"status": current},
        )
    return target
