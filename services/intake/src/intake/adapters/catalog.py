"""The SQL of the catalogue: provinces, units, plans and national regimes, each row holding the entity as its event
carries it."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, RegimeV1, UnitV1
from intake.adapters import orm

Entity = ProvinceV1 | UnitV1 | PlanV1 | RegimeV1
E = TypeVar("E", ProvinceV1, UnitV1, PlanV1, RegimeV1)
_P, _U, _PL, _R = orm.provinces.c, orm.units.c, orm.plans.c, orm.regimes.c


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stored_docs(self, province: str) -> dict[str, dict[str, dict]]:
        """The province's stored documents by kind ("province", "unit", "plan") and key, retired ones included."""
        docs: dict[str, dict[str, dict]] = {"province": {}, "unit": {}, "plan": {}}
        row = (await self.session.execute(select(_P.doc).where(_P.code == province))).first()
        if row:
            docs["province"][province] = row.doc
        for r in await self.session.execute(select(_U.code, _U.doc).where(_U.province == province)):
            docs["unit"][r.code] = r.doc
        for r in await self.session.execute(select(_PL.id, _PL.doc).where(_PL.province == province)):
            docs["plan"][r.id] = r.doc
        return docs

    async def structure(self) -> tuple[list[ProvinceV1], list[UnitV1], list[PlanV1]]:
        """Every province, active unit and active plan of the catalogue: the structure a load is checked in."""
        return (
            await self._all(ProvinceV1, select(_P.doc).order_by(_P.code)),
            await self._all(UnitV1, select(_U.doc).where(_U.active).order_by(_U.province, _U.code)),
            await self._all(PlanV1, select(_PL.doc).where(_PL.active).order_by(_PL.province, _PL.id)),
        )

    async def upsert(self, entity: Entity, doc: dict, now: datetime) -> None:
        """Store the entity (as `doc`, its JSON form), replacing the stored one of the same key."""
        if isinstance(entity, RegimeV1):
            stmt = insert(orm.regimes).values(id=entity.id, active=entity.active, doc=doc, updated_at=now)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"], set_={"doc": doc, "active": entity.active, "updated_at": now}
            )
        elif isinstance(entity, ProvinceV1):
            stmt = insert(orm.provinces).values(code=entity.code, doc=doc, updated_at=now)
            stmt = stmt.on_conflict_do_update(index_elements=["code"], set_={"doc": doc, "updated_at": now})
        elif isinstance(entity, UnitV1):
            stmt = insert(orm.units).values(
                province=entity.province, code=entity.code, active=entity.active, doc=doc, updated_at=now
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["province", "code"], set_={"doc": doc, "active": entity.active, "updated_at": now}
            )
        else:
            stmt = insert(orm.plans).values(
                province=entity.province, id=entity.id, active=entity.active, doc=doc, updated_at=now
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["province", "id"], set_={"doc": doc, "active": entity.active, "updated_at": now}
            )
        await self.session.execute(stmt)

    async def regimes(self) -> list[RegimeV1]:
        """Every national regime, retired ones included, by id."""
        return await self._all(RegimeV1, select(_R.doc).order_by(_R.id))

    async def regime_docs(self) -> dict[str, dict]:
        """The stored regimes' documents by id."""
        return {r.id: r.doc for r in await self.session.execute(select(_R.id, _R.doc))}

    async def provinces(self) -> list[ProvinceV1]:
        return await self._all(ProvinceV1, select(_P.doc).order_by(_P.code))

    async def province(self, code: str) -> ProvinceV1 | None:
        return await self._one(ProvinceV1, select(_P.doc).where(_P.code == code))

    async def units(self, province: str) -> list[UnitV1]:
        """The province's active units."""
        return await self._all(UnitV1, select(_U.doc).where(_U.province == province, _U.active).order_by(_U.code))

    async def unit(self, province: str, code: str) -> UnitV1 | None:
        return await self._one(UnitV1, select(_U.doc).where(_U.province == province, _U.code == code))

    async def plans(self, province: str) -> list[PlanV1]:
        """The province's plans in force."""
        return await self._all(PlanV1, select(_PL.doc).where(_PL.province == province, _PL.active).order_by(_PL.id))

    async def plan(self, province: str, plan_id: str) -> PlanV1 | None:
        return await self._one(PlanV1, select(_PL.doc).where(_PL.province == province, _PL.id == plan_id))

    async def _one(self, model: type[E], query: Select) -> E | None:
        doc = await self.session.scalar(query)
        return model.model_validate(doc) if doc else None

    async def _all(self, model: type[E], query: Select) -> list[E]:
        return [model.model_validate(doc) for doc in await self.session.scalars(query)]

    async def has_province(self, code: str) -> bool:
        return await self.session.scalar(select(_P.code).where(_P.code == code)) is not None

    async def has_unit(self, province: str, unit: str, *, active_only: bool = False) -> bool:
        query = select(_U.code).where(_U.province == province, _U.code == unit)
        return await self.session.scalar(query.where(_U.active) if active_only else query) is not None

    async def active_scopes(self) -> tuple[list[str], list[tuple[str, str]]]:
        """The codes of provinces not marked inactive, and (province, unit) of every active unit."""
        provinces = await self.session.scalars(select(_P.code).where(_P.doc["active"].astext.is_distinct_from("false")))
        units = await self.session.execute(select(_U.province, _U.code).where(_U.active))
        return list(provinces), [(row.province, row.code) for row in units]
