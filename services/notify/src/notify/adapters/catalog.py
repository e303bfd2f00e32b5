"""notify's copy of the catalogue (provinces, units, plans from baocao.catalog): stored as it comes, read
for the names, time zones and contacts that messages and pages need."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from notify.adapters import orm
from notify.domain.places import Place


class CatalogReplica:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_province(self, province: ProvinceV1) -> None:
        await replica.upsert_province(self.session, orm.provinces, province)

    async def upsert_unit(self, unit: UnitV1) -> None:
        await replica.upsert_unit(self.session, orm.units, unit)

    async def upsert_plan(self, plan: PlanV1) -> None:
        await replica.upsert_plan(self.session, orm.plans, plan)

    async def province(self, code: str) -> ProvinceV1 | None:
        return await replica.province(self.session, orm.provinces, code)

    async def place(self, code: str | None) -> Place:
        """A province's name and time zone, or plain defaults when the catalogue does not know it."""
        return Place.of(code, await self.province(code) if code else None)

    async def unit(self, province: str, code: str) -> UnitV1 | None:
        u = orm.units.c
        doc = await self.session.scalar(select(u.doc).where(u.province == province, u.code == code))
        return UnitV1.model_validate(doc) if doc else None

    async def unit_names(self, province: str) -> dict[str, str]:
        """code -> name of the province's units."""
        return await replica.unit_names(self.session, orm.units, province)

    async def province_names(self) -> dict[str, str]:
        """code -> name of every province."""
        p = orm.provinces.c
        return dict((await self.session.execute(select(p.code, p.doc["name"].astext))).all())
