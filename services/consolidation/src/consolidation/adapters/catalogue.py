"""The service's copy of the catalogue (provinces, units, plans), kept from baocao.catalog with the shared
replica functions over this service's tables."""

from __future__ import annotations

from sqlalchemy import select

from baocao_shared.catalog_replica import CatalogReplica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from consolidation.adapters import orm


class Catalogue(CatalogReplica):
    provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans

    async def active_plans(self) -> list[PlanV1]:
        """Every active plan, by province and id."""
        p = orm.plans.c
        rows = await self.session.execute(select(p.doc).where(p.active).order_by(p.province, p.id))
        return [PlanV1.model_validate(r.doc) for r in rows]

    async def provinces(self) -> list[ProvinceV1]:
        """Every province as the catalogue gave it (with its validity and successors), by code."""
        rows = await self.session.execute(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
        return [ProvinceV1.model_validate(r.doc) for r in rows]

    async def units_of(self, province: str) -> list[UnitV1]:
        """The province's units as the catalogue gave them (with their validity and successors), by code."""
        u = orm.units.c
        rows = await self.session.execute(select(u.doc).where(u.province == province).order_by(u.code))
        return [UnitV1.model_validate(r.doc) for r in rows]

    async def plans_with_successors(self) -> list[PlanV1]:
        """Every plan that names a successor plan (active or not): the regime's history across reorganisations."""
        p = orm.plans.c
        rows = await self.session.execute(
            select(p.doc).where(p.doc["successor"]["province"].astext.isnot(None)).order_by(p.province, p.id)
        )
        return [PlanV1.model_validate(r.doc) for r in rows]
