"""Follow the catalogue from baocao.catalog: the latest document per entity wins.

A province or unit that arrives releases the notices that came before it (handlers/notices.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from notify.adapters import orm
from notify.handlers import notices


async def province_upserted(session: AsyncSession, province: ProvinceV1, *, service_urls: Mapping[str, str]) -> None:
    """Store the province, and deliver the digests and approvals that waited for it."""
    await replica.upsert_province(session, orm.provinces, province)
    await notices.release(session, province=province.code, service_urls=service_urls)


async def unit_upserted(session: AsyncSession, unit: UnitV1, *, service_urls: Mapping[str, str]) -> None:
    """Store the unit, and deliver the reminders, overdue notices and nudges that waited for it."""
    await replica.upsert_unit(session, orm.units, unit)
    await notices.release(session, province=unit.province, unit=unit.code, service_urls=service_urls)


async def plan_upserted(session: AsyncSession, plan: PlanV1) -> None:
    await replica.upsert_plan(session, orm.plans, plan)
