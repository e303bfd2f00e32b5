"""Who owes a plan's period (nghĩa vụ báo cáo): pure rules; the obligations adapter applies the same ones in SQL.

The structure over time (issue 17, part 2) is part of the rule: a unit owes only the periods it is in force in
(`valid_from` <= period <= `valid_to`, months, both inclusive; baocao_shared.structure.in_force). A unit retired
at 2025-06 keeps its obligations up to 2025-06 (history: compliance of 2025-06 still lists it) and owes nothing
after; a commune in force from 2025-07 owes nothing before.
"""

from __future__ import annotations

from datetime import date

from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.structure import in_force


def in_plan(unit: UnitV1, plan: PlanV1) -> bool:
    """An active unit of the plan's province that the plan lists."""
    return unit.province == plan.province and unit.active and unit.code in plan.units


def owes(unit: UnitV1, plan: PlanV1, period: str, window_end: date) -> bool:
    """A unit in the plan, in force in the period, owes it when its data window ends on or after the day the unit
    became active."""
    return (
        in_plan(unit, plan) and in_force(unit, period) and (unit.active_from is None or unit.active_from <= window_end)
    )


def stops_owing(unit: UnitV1, period: str, *, submitted: bool) -> bool:
    """An obligation the unit was given for a period it is no longer in force in (a reorganisation loaded late)
    stops being expected, unless a report arrived for it: then it stays as it was, the report on record."""
    return not submitted and not in_force(unit, period)
