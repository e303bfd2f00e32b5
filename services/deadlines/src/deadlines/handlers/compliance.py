"""Compliance of a province's period: who reported, on time or late, and who may see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baocao_shared.principal import Principal
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.errors import ComplianceNotVisible, PeriodNotOpen, PlanAmbiguous, UnknownPlan
from deadlines.handlers.views import period_views


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


async def compliance(
    uow: DeadlinesUnitOfWork, *, principal: Principal, province: str, plan_id: str | None, period: str, now: datetime
) -> dict[str, Any]:
    """Who reported the period, on time or late, with its figures (GET /v1/compliance)."""
    check_oversees(principal, province)
    return await period_compliance(
        uow, province=province, plan_id=await resolve_plan(uow, province, plan_id), period=period, now=now
    )


async def period_compliance(
    uow: DeadlinesUnitOfWork, *, province: str, plan_id: str, period: str, now: datetime
) -> dict[str, Any]:
    """The figures and units of a period of a known plan; the caller has checked who asks."""
    row = await uow.periods.get(province, plan_id, period)
    if row is None:
        raise PeriodNotOpen(province=province, plan_id=plan_id, period=period)
    views, summary = await period_views(uow, province, plan_id, period, now=now)
    return {
        "province": province,
        "plan_id": plan_id,
        "period": period,
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
            }
            for v in views
        ],
    }
