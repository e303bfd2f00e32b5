"""Follow the catalogue from baocao.catalog: the latest document per entity wins.

A province, unit or plan that arrives releases the notices that came before it (handlers/notices.py).
"""

from __future__ import annotations

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from notify.adapters.uow import NotifyUnitOfWork
from notify.handlers.notices import Notices, release


async def province_upserted(uow: NotifyUnitOfWork, province: ProvinceV1, *, notices: Notices) -> int:
    """Store the province, and deliver the digests and approvals that waited for it."""
    await uow.catalog.upsert_province(province)
    return await release(uow, province=province.code, notices=notices)


async def unit_upserted(uow: NotifyUnitOfWork, unit: UnitV1, *, notices: Notices) -> int:
    """Store the unit, and deliver the reminders, overdue notices and nudges that waited for it."""
    await uow.catalog.upsert_unit(unit)
    return await release(uow, province=unit.province, unit=unit.code, notices=notices)


async def plan_upserted(uow: NotifyUnitOfWork, plan: PlanV1, *, notices: Notices) -> int:
    """Store the plan, and deliver the published reports that waited for its units."""
    await uow.catalog.upsert_plan(plan)
    return await release(uow, province=plan.province, plan_id=plan.id, notices=notices)
