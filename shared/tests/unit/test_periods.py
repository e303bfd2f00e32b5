"""Where a period stands (baocao_shared.periods), the one answer intake, deadlines and consolidation give:
checked against plan 467's calendar (due before the 16th, closed on the 25th, Hải Dương's time)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baocao_shared.events.catalog import PlanV1
from baocao_shared.periods import STATES, plan_periods, standing
from baocao_testing.samples import PLAN_467_CALENDAR

TZ = "Asia/Ho_Chi_Minh"


def plan(**changes) -> PlanV1:
    return PlanV1.model_validate(
        {
            "id": "p467", "province": "30", "number": "467/KH-BCĐNQ", "title": "Kế hoạch", "issued_on": "2019-05-30",
            "first_period": "2019-06", "units": ["CA"], "calendar": PLAN_467_CALENDAR,
            "template": {"tasks": []}, "report": {"title": "Báo cáo", "number_code": "BC-BCĐNQ"}, **changes,
        }
    )  # fmt: skip


def local(*args) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(TZ))


@pytest.mark.parametrize(
    ("at", "state"),
    [
        (local(2019, 7, 14, 23, 59), "not_open"),  # July's window opens on 15 July
        (local(2019, 7, 15, 0, 0), "open"),
        (local(2019, 8, 15, 23, 59), "open"),  # "before the 16th"
        (local(2019, 8, 16, 0, 0), "overdue"),  # late, still accepted
        (local(2019, 8, 24, 23, 59), "overdue"),
        (local(2019, 8, 25, 0, 0), "closed"),  # the close: missing is final
    ],
)
def test_a_period_opens_falls_due_and_closes_on_the_plans_days(at, state):
    assert standing(plan(), "2019-08", TZ, at).state == state


def test_periods_before_the_start_of_tracking_are_history_not_overdue():
    tracked = plan(tracking_from="2026-06")
    at = local(2026, 12, 7, 9, 0)
    states = {s.period: s.state for s in plan_periods(tracked, TZ, at)}
    assert states["2019-06"] == states["2026-05"] == "history"
    assert states["2026-06"] == states["2026-11"] == "closed"
    assert states["2026-12"] == "open"
    assert sum(1 for s in states.values() if s == "history") == 84  # 2019-06 .. 2026-05
    assert not standing(tracked, "2026-05", TZ, at).tracked
    assert standing(tracked, "2026-06", TZ, at).tracked


def test_without_a_start_of_tracking_the_plan_is_tracked_from_its_first_period():
    states = [s.state for s in plan_periods(plan(), TZ, local(2026, 12, 7, 9, 0))]
    assert len(states) == 91 and "history" not in states


def test_outside_the_plan_is_outside_whatever_the_date():
    ended = plan(last_period="2025-06")
    at = local(2026, 12, 7)
    assert standing(ended, "2019-05", TZ, at).state == "outside_plan"
    assert standing(ended, "2025-07", TZ, at).state == "outside_plan"
    assert plan_periods(ended, TZ, at)[-1].period == "2025-06"


@given(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)))
def test_the_walk_has_one_state_per_period_and_states_only_move_forward(now):
    walk = plan_periods(plan(tracking_from="2021-01"), TZ, now)
    codes = [s.period for s in walk]
    assert codes == sorted(set(codes))
    order = {state: i for i, state in enumerate(STATES)}
    # Older periods are never less advanced than newer ones (history < ... < closed read backwards).
    ranks = [order[s.state] for s in walk if s.state != "history"]
    assert ranks == sorted(ranks, reverse=True)
    assert all(s.state == "history" for s in walk if s.period < "2021-01")


def test_a_quarterly_plan_is_bounded_and_tracked_by_months():
    """A plan's bounds are months (first_period 2019-06, last_period 2025-06, tracking from 2021-07); its
    quarters compare through their months: the quarter holding June 2019 is its first, the one holding June 2025
    its last, and quarters ending before July 2021 are history."""
    quarterly = plan(
        calendar={**PLAN_467_CALENDAR, "frequency": "quarterly"}, last_period="2025-06", tracking_from="2021-07"
    )
    now = datetime(2026, 12, 7, tzinfo=UTC)
    states = {code: standing(quarterly, code, TZ, now).state for code in
              ("2019-Q1", "2019-Q2", "2021-Q2", "2021-Q3", "2025-Q2", "2025-Q3")}  # fmt: skip
    assert states == {
        "2019-Q1": "outside_plan", "2019-Q2": "history", "2021-Q2": "history", "2021-Q3": "closed",
        "2025-Q2": "closed", "2025-Q3": "outside_plan",
    }  # fmt: skip
    walk = [s.period for s in plan_periods(quarterly, TZ, now)]
    assert walk[0] == "2019-Q2" and walk[-1] == "2025-Q2" and len(walk) == 25
