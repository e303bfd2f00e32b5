"""The national office's view: every province's report status for a period and, per national regime, the totals
over the counted reports (`domain/national.py`); and what the pages need to find their way (the period to open
first, the regimes' templates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import RegimeV1
from baocao_shared.principal import Principal
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain import continuity
from consolidation.domain.errors import NotTheNationalOffice
from consolidation.domain.months import month_of
from consolidation.domain.national import ProvincePlan, counts, owes, roll_up


async def national(uow: ConsolidationUnitOfWork, *, principal: Principal, period: str) -> dict[str, Any]:
    """The national roll-up of the period, per national regime: each regime's provinces, their totals in the
    regime's codes and the regime's totals over the counted (published, accepted) reports, and who is missing; the
    plans that name no regime apart (`unmapped`). Only the provinces in force in the period (Hải Dương up to
    2025-06, not after) and the plans that cover it. `provinces` lists every province's plan with its status."""
    if not principal.is_national:
        raise NotTheNationalOffice()
    states = await uow.reports.of_period(period)
    provinces, owed, not_reported = [], [], []
    for place in continuity.in_force_provinces(await uow.catalogue.provinces(), period):
        code, name = place.code, place.name
        for plan in await uow.catalogue.plans_of(code):
            if not owes(plan, period):
                continue  # a plan before its first period, after its last, or of another frequency owes none
            state = states.get((code, plan.id))
            status = state.status if state is not None else "draft"
            published_at = state.published_at if state is not None else None
            provinces.append(
                {
                    "province": code,
                    "province_name": name,
                    "plan_id": plan.id,
                    "plan_number": plan.number,
                    "regime": plan.national.regime if plan.national else None,
                    "status": status,
                    "published_at": published_at,
                    # The national office's answer: accepted (status), or returned to the province (a draft again).
                    "returned": state is not None and status == "draft" and state.returned_at is not None,
                }
            )
            snapshot = state.content if state is not None and counts(status) else None
            totals = snapshot["totals"] if snapshot else None
            owed.append(ProvincePlan(code, name, plan, status, published_at, totals))
            if totals is None:
                not_reported.append({"province": code, "province_name": name, "plan_id": plan.id})
    return {
        "period": period,
        **roll_up(await uow.catalogue.regimes(), owed),
        "provinces": provinces,
        "published": sum(1 for e in provinces if counts(e["status"])),
        "not_reported": not_reported,
    }


async def latest_period(uow: ConsolidationUnitOfWork, *, now: datetime, province: str | None = None) -> str:
    """The newest month, up to this one, that has a unit's report (in the province); else this month."""
    this_month = month_of(now)
    return await uow.unit_reports.newest_month(up_to=this_month, province=province) or this_month


async def regimes(uow: ConsolidationUnitOfWork) -> dict[str, RegimeV1]:
    """The national regimes by id: their templates name and order the indicators of the national page."""
    return await uow.catalogue.regimes()
