"""The service's copy of the catalogue (provinces, units, plans, national regimes), kept from baocao.catalog with
the shared replica functions over this service's tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from baocao_shared.catalog_replica import CatalogReplica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, RegimeV1, UnitV1
from consolidation.adapters import orm


class Catalogue(CatalogReplica):
    provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans

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

    async def upsert_regime(self, regime: RegimeV1) -> None:
        values = {"doc": regime.model_dump(mode="json"), "active": regime.active}
        await self.session.execute(
            insert(orm.regimes).values(id=regime.id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
        )

    async def regimes(self) -> dict[str, RegimeV1]:
        """Every national regime, by id."""
        rows = await self.session.execute(select(orm.regimes.c.doc).order_by(orm.regimes.c.id))
        return {doc.id: doc for doc in (RegimeV1.model_validate(r.doc) for r in rows)}
