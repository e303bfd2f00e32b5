"""Hypothesis strategies the schedule's property tests share."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

ANY_MINUTE = st.integers(0, 59)


def calendar_settings(minutes: st.SearchStrategy[int] = ANY_MINUTE) -> st.SearchStrategy[dict[str, Any]]:
    """A plan calendar's settings drawn at random (cutoff and due day, the non-working-day policy, each kind of
    notice's days and send time), for CalendarV1 or a copy of plan 467's calendar."""
    send_times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), minutes)

    @st.composite
    def drawn(draw) -> dict[str, Any]:
        cutoff_day = draw(st.integers(1, 27))
        return {
            "cutoff_day": cutoff_day,
            "due_day": draw(st.integers(cutoff_day + 1, 28)),
            "non_working_day_policy": draw(st.sampled_from(["keep", "next_working_day"])),
            "reminders": {"days": draw(st.lists(st.integers(-10, 0), max_size=4, unique=True)), "at": draw(send_times)},
            "overdue": {"days": draw(st.lists(st.integers(1, 10), max_size=4, unique=True)), "at": draw(send_times)},
            "escalation": {"days": draw(st.lists(st.integers(1, 10), max_size=3, unique=True)), "at": draw(send_times)},
            "close": {"days": [draw(st.integers(5, 20))], "at": draw(send_times)},
        }

    return drawn()
