"""Compliance of a province's period: who reported, on time or late, and who may see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.periods import PeriodError, PeriodStanding, standing
from baocao_shared.principal import Principal
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.errors import (
    ComplianceNotVisible,
    PeriodMalformed,
    PeriodNotOpen,
    PeriodNotTracked,
    PlanAmbiguous,
    UnknownPlan,
    UnknownProvince,
)
from deadlines.handlers.views import period_table


def check_oversees(principal: Principal, province: str) -> None:
    """A province's compliance is for its operators, the national office and admins."""
    if not principal.oversees(province):
        raise ComplianceNotVisible(province=province)


def choose_plan(province: str, active: list[str], plan_id: str | None, *, province_name: str | None = None) -> str:
    """The plan asked for among the province's active ones, or its only active plan."""
    if plan_id:
        if plan_id not in active:
            raise UnknownPlan(province=province, plan_id=plan_id, province_name=province_name)
        return plan_id
    if not active:
        raise UnknownPlan(province=province, plan_id=None, province_name=province_name)
    if len(active) > 1:
        raise PlanAmbiguous(province=province, plan_ids=active)
    return active[0]


async def resolve_plan(uow: DeadlinesUnitOfWork, province: str, plan_id: str | None) -> str:
    """The plan asked for, or the province's only active plan."""
    return choose_plan(province, await uow.catalog.active_plan_ids(province), plan_id)


async def plan_in_province(uow: DeadlinesUnitOfWork, province: str, plan_id: str | None) -> tuple[ProvinceV1, PlanV1]:
    """The province and the plan asked for (or its only active plan), as the catalogue told deadlines."""
    found = await uow.catalog.province(province)
    if found is None:
        raise UnknownProvince(province=province)
    plans = await uow.catalog.plans_of(province)
    chosen = choose_plan(province, [p.id for p in plans], plan_id, province_name=found.name)
    return found, next(p for p in plans if p.id == chosen)


def period_standing(plan: PlanV1, province: ProvinceV1, period: str, now: datetime) -> PeriodStanding:
    """Where the period stands (baocao_shared.periods.standing); a code that is no period of the plan is refused."""
    try:
        return standing(plan, period, province.timezone, now)
    except PeriodError as malformed:
        raise PeriodMalformed(period=period, reason=str(malformed)) from None


def require_tracked(plan: PlanV1, province: ProvinceV1, period: str, now: datetime) -> PeriodStanding:
    """The period's standing when units owe it; otherwise the refusal says where it stands (history, not open
    until a date, outside the plan)."""
    found = period_standing(plan, province, period, now)
    if not found.tracked:
        raise PeriodNotTracked(
            province=province.code,
            plan_id=plan.id,
            period=period,
            state=found.state,
            tracking_from=found.tracking_from,
            opens_at=found.opens_at,
            timezone=province.timezone,
        )
    return found


async def compliance(
    uow: DeadlinesUnitOfWork, *, principal: Principal, province: str, plan_id: str | None, period: str, now: datetime
) -> dict[str, Any]:
    """Who reported the period, on time or late, with its figures (GET /v1/compliance)."""
    check_oversees(principal, province)
    found, plan = await plan_in_province(uow, province, plan_id)
    return await period_compliance(uow, province=found, plan=plan, period=period, now=now)


async def period_compliance(
    uow: DeadlinesUnitOfWork, *, province: ProvinceV1, plan: PlanV1, period: str, now: datetime
) -> dict[str, Any]:
    """The figures and units of a tracked period of a known plan; the caller has checked who asks. A period
    nobody owes is refused with its standing (history, not open yet, outside the plan)."""
    where = require_tracked(plan, province, period, now)
    plan_id, province_code = plan.id, province.code
    row = await uow.periods.get(province_code, plan_id, period)
    if row is None:  # tracked, and the scheduler opens it within a tick
        raise PeriodNotOpen(province=province_code, plan_id=plan_id, period=period)
    views, summary, late_after_close = await period_table(uow, province_code, plan_id, period, now=now)
    return {
        "province": province_code,
        "plan_id": plan_id,
        "period": period,
        "state": where.state,
        "final": where.state == "closed",
        "due_at": row.due_at,
        "closed_at": row.closed_at,
        "summary": summary,
        "units": [
            {
                "unit": v.unit,
                "unit_name": v.unit_name,
                "status": v.status,
                "first_submitted_at": v.first_submitted_at,
                "late_by_s": v.late_by_s,
                "amended_after_due": v.amended_after_due,
                "after_close": v.unit in late_after_close,
            }
            for v in views
        ],
    }
