"""notify's copy of the catalogue (provinces, units, plans from baocao.catalog): stored as it comes, read
for the names, time zones and contacts that messages and pages need."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from baocao_shared.catalog_replica import CatalogReplica
from baocao_shared.events.catalog import PlanV1, UnitV1
from notify.adapters import orm
from notify.domain.places import Place


class Catalogue(CatalogReplica):
    provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans

    async def place(self, code: str | None) -> Place:
        """A province's name and time zone, or plain defaults when the catalogue does not know it."""
        return Place.of(code, await self.province(code) if code else None)

    async def unit(self, province: str, code: str) -> UnitV1 | None:
        u = orm.units.c
        doc = await self.session.scalar(select(u.doc).where(u.province == province, u.code == code))
        return UnitV1.model_validate(doc) if doc else None

    async def units_named(self, province: str, codes: Sequence[str]) -> dict[str, UnitV1]:
        """code -> unit of those of `codes` the catalogue knows."""
        u = orm.units.c
        docs = await self.session.scalars(select(u.doc).where(u.province == province, u.code.in_(list(codes))))
        return {unit.code: unit for unit in map(UnitV1.model_validate, docs)}

    async def plan(self, province: str, plan_id: str) -> PlanV1 | None:
        p = orm.plans.c
        doc = await self.session.scalar(select(p.doc).where(p.province == province, p.id == plan_id))
        return PlanV1.model_validate(doc) if doc else None

    async def province_names(self) -> dict[str, str]:
        """code -> name of every province."""
        p = orm.provinces.c
        return dict((await self.session.execute(select(p.code, p.doc["name"].astext))).all())
