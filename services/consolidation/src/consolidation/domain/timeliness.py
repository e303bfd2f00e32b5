"""Which of deadlines' words on a unit's obligation stands, whatever order they arrive in.

Deadlines speaks of an obligation in two events on different partitions: `obligation.updated` (keyed by unit)
and `period.closed` (keyed by province), so a consumer, live or rebuilding, may read them in either order. A word
that is not final never undoes a final one. Among final words, a report (on time, or late) is never undone by
"missing": deadlines only ever corrects a closed period's missing unit to reported (its report was accepted
before the close but reached deadlines after it, or came after the close under the office's exception), never
the other way.
"""

from __future__ import annotations

REPORTED = ("on_time", "late")


def replaces(*, new_status: str, new_final: bool, old_status: str, old_final: bool) -> bool:
    """The new word replaces the stored one."""
    if not old_final:
        return True
    return new_final and (old_status not in REPORTED or new_status in REPORTED)
