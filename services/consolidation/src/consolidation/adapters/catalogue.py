"""The service's copy of the catalogue (provinces, units, plans), kept from baocao.catalog with the shared
replica functions over this service's tables."""

from __future__ import annotations

from sqlalchemy import select

from baocao_shared.catalog_replica import CatalogReplica
from baocao_shared.events.catalog import PlanV1
from consolidation.adapters import orm


class Catalogue(CatalogReplica):
    provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans

    async def provinces(self) -> list[tuple[str, str]]:
        """(code, name) of every province, by code."""
        rows = await self.session.execute(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
        return [(row.doc["code"], row.doc["name"]) for row in rows]

    async def active_plans(self) -> list[PlanV1]:
        """Every active plan, by province and id."""
        p = orm.plans.c
        rows = await self.session.execute(select(p.doc).where(p.active).order_by(p.province, p.id))
        return [PlanV1.model_validate(r.doc) for r in rows]
