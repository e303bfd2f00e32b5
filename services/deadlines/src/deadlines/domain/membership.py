"""Who owes a plan's period (nghĩa vụ báo cáo): pure rules; the obligations adapter applies the same ones in SQL."""

from __future__ import annotations

from datetime import date

from baocao_shared.events.catalog import PlanV1, UnitV1


def in_plan(unit: UnitV1, plan: PlanV1) -> bool:
    """An active unit of the plan's province that the plan lists."""
    return unit.province == plan.province and unit.active and unit.code in plan.units


def owes(unit: UnitV1, plan: PlanV1, window_end: date) -> bool:
    """A unit in the plan owes a period whose data window ends on or after the day it became active."""
    return in_plan(unit, plan) and (unit.active_from is None or unit.active_from <= window_end)
