"""A service's own copy of the catalogue, kept from baocao.catalog: the latest document per entity.

Services that follow the catalogue (deadlines, consolidation, notify) hold `provinces`, `units` and
`plans` tables of the same shape (`replica_tables`), and their catalogue repositories extend `CatalogReplica`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, MetaData, PrimaryKeyConstraint, String, Table, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1


class CatalogReplica:
    """The repository of a service's copy of the catalogue. A service extends it with its tables (made by
    `replica_tables`) and the reads of its own:

        class Catalogue(CatalogReplica):
            provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans
    """

    provinces_table: ClassVar[Table]
    units_table: ClassVar[Table]
    plans_table: ClassVar[Table]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_province(self, province: ProvinceV1) -> None:
        doc = province.model_dump(mode="json")
        await self.session.execute(
            insert(self.provinces_table)
            .values(code=province.code, doc=doc)
            .on_conflict_do_update(index_elements=["code"], set_={"doc": doc})
        )

    async def upsert_unit(self, unit: UnitV1) -> None:
        await self.upsert_units([unit])

    async def upsert_units(self, units: Sequence[UnitV1]) -> None:
        """Each unit's latest state, in one statement: of several states of one unit, the last wins. The service's
        own columns of units (`replica_tables(unit_columns=)`) are kept from the fields of the same name."""
        latest = {(u.province, u.code): u for u in units}
        if not latest:
            return
        fields = [c.name for c in self.units_table.columns if c.name not in ("province", "code", "active", "doc")]
        stmt = insert(self.units_table)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["province", "code"], set_={c: stmt.excluded[c] for c in ("doc", "active", *fields)}
            ),
            [
                {
                    "province": u.province,
                    "code": u.code,
                    "active": u.active,
                    "doc": u.model_dump(mode="json"),
                    **{f: getattr(u, f) for f in fields},
                }
                for u in latest.values()
            ],
        )

    async def upsert_plan(self, plan: PlanV1, extra: Mapping[str, Any] | None = None) -> None:
        """The plan's latest document; `extra` sets the service's own columns of it too."""
        doc = plan.model_dump(mode="json")
        values = {"doc": doc, "active": plan.active, **(extra or {})}
        await self.session.execute(
            insert(self.plans_table)
            .values(province=plan.province, id=plan.id, **values)
            .on_conflict_do_update(index_elements=["province", "id"], set_=values)
        )

    async def province(self, code: str) -> ProvinceV1 | None:
        t = self.provinces_table.c
        doc = await self.session.scalar(select(t.doc).where(t.code == code))
        return ProvinceV1.model_validate(doc) if doc else None

    async def plans_of(self, province: str) -> list[PlanV1]:
        """The province's active plans, by id."""
        t = self.plans_table.c
        rows = await self.session.execute(select(t.doc).where(t.province == province, t.active).order_by(t.id))
        return [PlanV1.model_validate(r.doc) for r in rows]

    async def unit_names(self, province: str) -> dict[str, str]:
        """code -> name of the province's units."""
        t = self.units_table.c
        rows = await self.session.execute(select(t.code, t.doc["name"].astext).where(t.province == province))
        return {unit: name for unit, name in rows}


def replica_tables(
    metadata: MetaData, *, plan_columns: Sequence[Column] = (), unit_columns: Sequence[Column] = ()
) -> tuple[Table, Table, Table]:
    """The `provinces`, `units` and `plans` tables of a service that follows the catalogue. `plan_columns` are the
    service's own columns of plans (set through `upsert_plan(extra=)`); `unit_columns` copy fields of the unit's
    document as columns, each named as the UnitV1 field it holds (kept by `upsert_units`)."""
    provinces = Table(
        "provinces", metadata, Column("code", String(2), primary_key=True), Column("doc", JSONB, nullable=False)
    )
    units = Table(
        "units",
        metadata,
        Column("province", String(2), nullable=False),
        Column("code", String(40), nullable=False),
        Column("active", Boolean, nullable=False),
        Column("doc", JSONB, nullable=False),
        *unit_columns,
        PrimaryKeyConstraint("province", "code"),
    )
    plans = Table(
        "plans",
        metadata,
        Column("province", String(2), nullable=False),
        Column("id", String(64), nullable=False),
        Column("active", Boolean, nullable=False),
        Column("doc", JSONB, nullable=False),
        *plan_columns,
        PrimaryKeyConstraint("province", "id"),
    )
    return provinces, units, plans
