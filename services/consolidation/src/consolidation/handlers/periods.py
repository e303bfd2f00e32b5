"""Where a plan's periods stand, as this service sees them: `baocao_shared.periods` over consolidation's
copy of the catalogue (the plan and the province's time zone), the same answer intake and deadlines give.

The caller owns the transaction (`async with uow:`); these only read."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.periods import PeriodStanding, plan_periods
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.errors import UnknownProvince
from consolidation.domain.report import ReportAddress
from consolidation.handlers.reports import period_standing, resolve_plan


async def period(uow: ConsolidationUnitOfWork, *, address: ReportAddress, now: datetime) -> PeriodStanding:
    """Where one period of the plan (or the province's only plan) stands now."""
    _, _, found = await period_standing(uow, address=address, now=now)
    return found


async def periods(
    uow: ConsolidationUnitOfWork, *, province: str, plan_id: str | None, now: datetime
) -> list[PeriodStanding]:
    """Every period of the plan from its first to the one open now, oldest first."""
    plan = await resolve_plan(uow, province, plan_id)
    place = await uow.catalogue.province(province)
    if place is None:
        raise UnknownProvince(province=province)
    return plan_periods(plan, place.timezone, now)
