"""Use cases of the catalogue: load a province file, read provinces, units and plans.

Loading upserts each entity, publishes a catalogue event for each one that changed (through the
outbox, in the caller's transaction), and retires units and plans the file no longer lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events import make_event, topics
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, PlanV1, ProvinceV1, UnitV1
from baocao_shared.messaging.outbox import enqueue
from intake.adapters import orm
from intake.domain.catalog import ProvinceCatalog

SOURCE = "/baocao/intake"


async def load_province(session: AsyncSession, catalog: ProvinceCatalog, *, actor: str, now: datetime) -> dict:
    """Make the stored catalogue of one province equal the file; publish what changed."""
    code = catalog.province.code
    summary: dict[str, Any] = {"province": code, "created": [], "updated": [], "retired": [], "unchanged": 0}
    events = []
    stored = await _stored_docs(session, code)
    retired_units = [
        UnitV1.model_validate({**doc, "active": False})
        for key, doc in stored["unit"].items()
        if key not in {u.code for u in catalog.units} and doc.get("active", True)
    ]
    retired_plans = [
        PlanV1.model_validate({**doc, "active": False})
        for key, doc in stored["plan"].items()
        if key not in {p.id for p in catalog.plans} and doc.get("active", True)
    ]
    for entity in [*catalog.entities(), *retired_units, *retired_plans]:
        kind, key = _kind_and_key(entity)
        doc = entity.model_dump(mode="json")
        before = stored[kind].get(key)
        if before == doc:
            summary["unchanged"] += 1
            continue
        await _upsert(session, kind, entity, doc, now)
        label = f"{kind}:{key}"
        if not doc.get("active", True) and before is not None:
            summary["retired"].append(label)
        else:
            summary["updated" if before is not None else "created"].append(label)
        spec = {"province": PROVINCE_UPSERTED, "unit": UNIT_UPSERTED, "plan": PLAN_UPSERTED}[kind]
        events.append(make_event(spec, entity, source=SOURCE, province=code, time=now))
    await enqueue(session, orm.outbox, topics.CATALOG, events)
    if events:
        await session.execute(
            orm.audit_log.insert().values(
                at=now,
                actor=actor,
                action="catalog.load",
                subject=f"province:{code}",
                details={k: v for k, v in summary.items() if k != "unchanged"},
            )
        )
    return summary


def _kind_and_key(entity: ProvinceV1 | UnitV1 | PlanV1) -> tuple[str, str]:
    if isinstance(entity, ProvinceV1):
        return "province", entity.code
    if isinstance(entity, UnitV1):
        return "unit", entity.code
    return "plan", entity.id


async def _stored_docs(session: AsyncSession, province: str) -> dict[str, dict[str, dict]]:
    docs: dict[str, dict[str, dict]] = {"province": {}, "unit": {}, "plan": {}}
    row = (await session.execute(select(orm.provinces.c.doc).where(orm.provinces.c.code == province))).first()
    if row:
        docs["province"][province] = row.doc
    for r in await session.execute(select(orm.units.c.code, orm.units.c.doc).where(orm.units.c.province == province)):
        docs["unit"][r.code] = r.doc
    for r in await session.execute(select(orm.plans.c.id, orm.plans.c.doc).where(orm.plans.c.province == province)):
        docs["plan"][r.id] = r.doc
    return docs


async def _upsert(session: AsyncSession, kind: str, entity: Any, doc: dict, now: datetime) -> None:
    if kind == "province":
        stmt = insert(orm.provinces).values(code=entity.code, doc=doc, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["code"], set_={"doc": doc, "updated_at": now})
    elif kind == "unit":
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
    await session.execute(stmt)


async def list_provinces(session: AsyncSession) -> list[ProvinceV1]:
    rows = await session.execute(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
    return [ProvinceV1.model_validate(r.doc) for r in rows]


async def get_province(session: AsyncSession, code: str) -> ProvinceV1 | None:
    doc = await session.scalar(select(orm.provinces.c.doc).where(orm.provinces.c.code == code))
    return ProvinceV1.model_validate(doc) if doc else None


async def list_units(session: AsyncSession, province: str, *, include_retired: bool = False) -> list[UnitV1]:
    query = select(orm.units.c.doc).where(orm.units.c.province == province).order_by(orm.units.c.code)
    if not include_retired:
        query = query.where(orm.units.c.active)
    return [UnitV1.model_validate(r.doc) for r in await session.execute(query)]


async def get_unit(session: AsyncSession, province: str, code: str) -> UnitV1 | None:
    doc = await session.scalar(
        select(orm.units.c.doc).where(orm.units.c.province == province, orm.units.c.code == code)
    )
    return UnitV1.model_validate(doc) if doc else None


async def list_plans(session: AsyncSession, province: str) -> list[PlanV1]:
    query = select(orm.plans.c.doc).where(orm.plans.c.province == province, orm.plans.c.active).order_by(orm.plans.c.id)
    return [PlanV1.model_validate(r.doc) for r in await session.execute(query)]


async def get_plan(session: AsyncSession, province: str, plan_id: str) -> PlanV1 | None:
    doc = await session.scalar(
        select(orm.plans.c.doc).where(orm.plans.c.province == province, orm.plans.c.id == plan_id)
    )
    return PlanV1.model_validate(doc) if doc else None


async def province_of_plan(session: AsyncSession, plan_id: str) -> str | None:
    """The province a plan id belongs to, if any."""
    return await session.scalar(select(orm.plans.c.province).where(orm.plans.c.id == plan_id).limit(1))
