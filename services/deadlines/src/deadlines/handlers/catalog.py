"""Follow the catalogue from baocao.catalog: the latest document per entity wins."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from deadlines.adapters import orm


async def province_upserted(session: AsyncSession, province: ProvinceV1) -> None:
    doc = province.model_dump(mode="json")
    await session.execute(
        insert(orm.provinces)
        .values(code=province.code, doc=doc)
        .on_conflict_do_update(index_elements=["code"], set_={"doc": doc})
    )


async def unit_upserted(session: AsyncSession, unit: UnitV1) -> None:
    """Store the unit, and have the scheduler look again at its province's plans (a unit may join mid-period)."""
    doc = unit.model_dump(mode="json")
    await session.execute(
        insert(orm.units)
        .values(province=unit.province, code=unit.code, active=unit.active, doc=doc)
        .on_conflict_do_update(index_elements=["province", "code"], set_={"doc": doc, "active": unit.active})
    )
    await session.execute(update(orm.plans).where(orm.plans.c.province == unit.province).values(changed=True))


async def plan_upserted(session: AsyncSession, plan: PlanV1) -> None:
    doc = plan.model_dump(mode="json")
    await session.execute(
        insert(orm.plans)
        .values(province=plan.province, id=plan.id, active=plan.active, doc=doc, changed=True)
        .on_conflict_do_update(
            index_elements=["province", "id"], set_={"doc": doc, "active": plan.active, "changed": True}
        )
    )
