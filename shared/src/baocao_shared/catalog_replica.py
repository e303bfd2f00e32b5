"""A service's own copy of the catalogue, kept from baocao.catalog: the latest document per entity.

Services that follow the catalogue (deadlines, consolidation, notify) hold `provinces`, `units` and
`plans` tables of the same shape and upsert them with these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Boolean, Column, MetaData, PrimaryKeyConstraint, String, Table, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1


async def upsert_province(session: AsyncSession, table: Table, province: ProvinceV1) -> None:
    doc = province.model_dump(mode="json")
    await session.execute(
        insert(table)
        .values(code=province.code, doc=doc)
        .on_conflict_do_update(index_elements=["code"], set_={"doc": doc})
    )


async def upsert_unit(session: AsyncSession, table: Table, unit: UnitV1) -> None:
    doc = unit.model_dump(mode="json")
    await session.execute(
        insert(table)
        .values(province=unit.province, code=unit.code, active=unit.active, doc=doc)
        .on_conflict_do_update(index_elements=["province", "code"], set_={"doc": doc, "active": unit.active})
    )


async def upsert_units(session: AsyncSession, table: Table, units: Sequence[UnitV1]) -> None:
    """As `upsert_unit` on each in turn, in one statement: the last state of each unit wins."""
    latest = {(u.province, u.code): u for u in units}
    if not latest:
        return
    stmt = insert(table)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["province", "code"], set_={"doc": stmt.excluded.doc, "active": stmt.excluded.active}
        ),
        [
            {"province": u.province, "code": u.code, "active": u.active, "doc": u.model_dump(mode="json")}
            for u in latest.values()
        ],
    )


async def upsert_plan(
    session: AsyncSession, table: Table, plan: PlanV1, extra: Mapping[str, Any] | None = None
) -> None:
    doc = plan.model_dump(mode="json")
    values = {"doc": doc, "active": plan.active, **(extra or {})}
    await session.execute(
        insert(table)
        .values(province=plan.province, id=plan.id, **values)
        .on_conflict_do_update(index_elements=["province", "id"], set_=values)
    )


async def province(session: AsyncSession, table: Table, code: str) -> ProvinceV1 | None:
    doc = await session.scalar(select(table.c.doc).where(table.c.code == code))
    return ProvinceV1.model_validate(doc) if doc else None


async def plans_of(session: AsyncSession, table: Table, code: str) -> list[PlanV1]:
    rows = await session.execute(
        select(table.c.doc).where(table.c.province == code, table.c.active).order_by(table.c.id)
    )
    return [PlanV1.model_validate(r.doc) for r in rows]


async def unit_names(session: AsyncSession, table: Table, code: str) -> dict[str, str]:
    rows = await session.execute(select(table.c.code, table.c.doc["name"].astext).where(table.c.province == code))
    return {unit: name for unit, name in rows}


def replica_tables(metadata: MetaData, *, plan_columns: Sequence[Column] = ()) -> tuple[Table, Table, Table]:
    """The `provinces`, `units` and `plans` tables of a service that follows the catalogue."""
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
