"""What a report may say about its period (pure), from the one answer every service gives
(`baocao_shared.periods.standing`): a period outside the plan or not open yet has no report; a history
period's report holds only the figures the staff office imported, and nobody is on time, late or missing in it."""

from __future__ import annotations

from collections.abc import Iterable

from baocao_shared.events.catalog import PlanV1
from baocao_shared.events.reports import DisciplineV1
from baocao_shared.periods import PeriodStanding, before_tracking, in_plan
from consolidation.domain.errors import PeriodNotOpen, PeriodOutsidePlan

HISTORY_NOTE = "Số liệu lịch sử do văn phòng nhập"


def check_reportable(plan: PlanV1, found: PeriodStanding) -> None:
    """A report exists for a period of the plan whose window has opened (or for a history period)."""
    if found.state == "outside_plan":
        raise PeriodOutsidePlan(
            plan_id=plan.id, period=found.period, first_period=plan.first_period, last_period=plan.last_period
        )
    if found.state == "not_open":
        raise PeriodNotOpen(plan_id=plan.id, period=found.period, opens_at=found.opens_at)


def history_periods(plan: PlanV1, codes: Iterable[str]) -> set[str]:
    """Which of these periods of the plan are history (in the plan, before the province's start of tracking)."""
    return {code for code in codes if in_plan(plan, code) and before_tracking(plan, code)}


def history_discipline() -> DisciplineV1:
    """Section II of a history period: no unit owed it, so none is counted as on time, late or missing."""
    return DisciplineV1(due_at=None, closed=False, expected=0, on_time=0, late=0, missing=0, pending=0)
