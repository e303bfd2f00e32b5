"""The service's copy of the catalogue (provinces, units, plans), kept from baocao.catalog with the shared
replica functions over this service's tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from consolidation.adapters import orm


class Catalogue:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_province(self, province: ProvinceV1) -> None:
        await replica.upsert_province(self.session, orm.provinces, province)

    async def upsert_unit(self, unit: UnitV1) -> None:
        await replica.upsert_unit(self.session, orm.units, unit)

    async def upsert_units(self, units: Sequence[UnitV1]) -> None:
        await replica.upsert_units(self.session, orm.units, units)

    async def upsert_plan(self, plan: PlanV1) -> None:
        await replica.upsert_plan(self.session, orm.plans, plan)

    async def province(self, code: str) -> ProvinceV1 | None:
        return await replica.province(self.session, orm.provinces, code)

    async def provinces(self) -> list[tuple[str, str]]:
        """(code, name) of every province, by code."""
        rows = await self.session.execute(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
        return [(row.doc["code"], row.doc["name"]) for row in rows]

    async def plans_of(self, province: str) -> list[PlanV1]:
        """The province's active plans, by id."""
        return await replica.plans_of(self.session, orm.plans, province)

    async def active_plans(self) -> list[PlanV1]:
        """Every active plan, by province and id."""
        p = orm.plans.c
        rows = await self.session.execute(select(p.doc).where(p.active).order_by(p.province, p.id))
        return [PlanV1.model_validate(r.doc) for r in rows]

    async def unit_names(self, province: str) -> dict[str, str]:
        return await replica.unit_names(self.session, orm.units, province)
