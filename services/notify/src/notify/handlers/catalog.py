"""Follow the catalogue from baocao.catalog: the latest document per entity wins."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from notify.adapters import orm


async def province_upserted(session: AsyncSession, province: ProvinceV1) -> None:
    await replica.upsert_province(session, orm.provinces, province)


async def unit_upserted(session: AsyncSession, unit: UnitV1) -> None:
    await replica.upsert_unit(session, orm.units, unit)


async def plan_upserted(session: AsyncSession, plan: PlanV1) -> None:
    await replica.upsert_plan(session, orm.plans, plan)
