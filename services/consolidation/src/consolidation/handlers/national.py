"""The national office's view: every province's report status for a period and the totals over the
published reports; and what the pages need to find their way (the period to open first, the indicators'
labels)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baocao_shared.periods import in_plan
from baocao_shared.principal import Principal
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain import continuity
from consolidation.domain.errors import NotTheNationalOffice
from consolidation.domain.months import month_of
from consolidation.domain.workflow import SENT_UP


async def national(uow: ConsolidationUnitOfWork, *, principal: Principal, period: str) -> dict[str, Any]:
    """Every province's report status for the period, and totals over the published reports: the provinces
    in force in the period (Hải Dương up to 2025-06, not after) and the plans that cover it."""
    if not principal.is_national:
        raise NotTheNationalOffice()
    states = await uow.reports.of_period(period)
    provinces, totals, missing = [], {}, []
    for place in continuity.in_force_provinces(await uow.catalogue.provinces(), period):
        code, name = place.code, place.name
        for plan in await uow.catalogue.plans_of(code):
            if not in_plan(plan, period):
                continue  # a plan before its first period or after its last owes no report of it
            state = states.get((code, plan.id))
            status = state.status if state is not None else "draft"
            entry = {
                "province": code,
                "province_name": name,
                "plan_id": plan.id,
                "plan_number": plan.number,
                "status": status,
                "published_at": state.published_at if state is not None else None,
                # The national office's answer: accepted (status), or returned to the province (a draft again).
                "returned": state is not None and status == "draft" and state.returned_at is not None,
            }
            provinces.append(entry)
            if status in SENT_UP and state.content:
                for indicator, value in state.content["totals"].items():
                    totals[indicator] = totals.get(indicator, 0) + value
            else:
                missing.append({"province": code, "province_name": name, "plan_id": plan.id})
    return {
        "period": period,
        "provinces": provinces,
        "totals": dict(sorted(totals.items())),
        "published": sum(1 for e in provinces if e["status"] in SENT_UP),
        "not_reported": missing,
    }


async def latest_period(uow: ConsolidationUnitOfWork, *, now: datetime, province: str | None = None) -> str:
    """The newest month, up to this one, that has a unit's report (in the province); else this month."""
    this_month = month_of(now)
    return await uow.unit_reports.newest_month(up_to=this_month, province=province) or this_month


async def indicator_labels(uow: ConsolidationUnitOfWork) -> dict[str, tuple[str, str | None]]:
    """code → (label, unit) from the first active plan whose template has that code."""
    labels: dict[str, tuple[str, str | None]] = {}
    for plan in await uow.catalogue.active_plans():
        for task in plan.template.tasks:
            for indicator in task.indicators:
                labels.setdefault(indicator.code, (indicator.label, indicator.unit))
    return labels
