"""The catalogue as deadlines keeps it (provinces, units, plans), and which plans the scheduler must look at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from baocao_shared.catalog_replica import CatalogReplica
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from deadlines.adapters import orm

# Which of a plan's units this copy lacks: its thousands of codes go as one array parameter, and only the missing
# ones (usually none) come back; a statement compiled once.
_codes = func.unnest(bindparam("codes", type_=ARRAY(String))).table_valued("code").render_derived("plan_units")
_UNKNOWN_UNITS = select(_codes.c.code).where(
    ~exists().where(orm.units.c.province == bindparam("province"), orm.units.c.code == _codes.c.code)
)


class Catalogue(CatalogReplica):
    provinces_table, units_table, plans_table = orm.provinces, orm.units, orm.plans

    async def upsert_plan(self, plan: PlanV1, extra: Mapping[str, Any] | None = None) -> None:
        """The plan's latest document, flagged `changed` for the scheduler."""
        await super().upsert_plan(plan, {"changed": True, **(extra or {})})

    async def validity(self, province: str, code: str) -> tuple[str | None, str | None] | None:
        """The unit's stored (valid_from, valid_to), or None when this copy of the catalogue has not received it."""
        t = orm.units.c
        row = (
            await self.session.execute(select(t.valid_from, t.valid_to).where(t.province == province, t.code == code))
        ).first()
        return (row.valid_from, row.valid_to) if row else None

    async def units_unknown(self, plan: PlanV1) -> list[str]:
        """The plan's units this copy of the catalogue has not received yet (a province's load arrives as many
        events, over several partitions): the plan's periods wait for them."""
        unknown = set(
            await self.session.scalars(_UNKNOWN_UNITS, {"province": plan.province, "codes": list(plan.units)})
        )
        return [code for code in plan.units if code in unknown]

    async def flag_plans_of(self, province: str) -> None:
        """Have the scheduler look again at every plan of the province."""
        await self.session.execute(update(orm.plans).where(orm.plans.c.province == province).values(changed=True))

    async def provinces(self) -> list[ProvinceV1]:
        """The provinces of the catalogue (tỉnh), by code."""
        docs = await self.session.scalars(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
        return [ProvinceV1.model_validate(doc) for doc in docs]

    async def active_plan_ids(self, province: str) -> list[str]:
        pl = orm.plans.c
        ids = await self.session.scalars(select(pl.id).where(pl.province == province, pl.active).order_by(pl.id))
        return list(ids)

    async def plans_to_open(self) -> list[tuple[PlanV1, ProvinceV1, bool]]:
        """Every active plan with its province, and whether its catalogue changed since the scheduler last
        looked. The changed ones are read again, locked: a unit stored while this transaction reads the units
        waits to set `changed` until `checked` below has committed, so the next tick looks at it again."""
        query = (
            select(orm.plans.c.doc, orm.plans.c.changed, orm.provinces.c.doc.label("province_doc"))
            .join(orm.provinces, orm.provinces.c.code == orm.plans.c.province)
            .where(orm.plans.c.active)
        )
        rows = (await self.session.execute(query)).all()
        if any(row.changed for row in rows):
            locked = (await self.session.execute(query.where(orm.plans.c.changed).with_for_update(of=orm.plans))).all()
            rows = [row for row in rows if not row.changed] + locked
        return [
            (PlanV1.model_validate(row.doc), ProvinceV1.model_validate(row.province_doc), row.changed) for row in rows
        ]

    async def checked(self, plan: PlanV1) -> None:
        """The scheduler has applied the plan's latest catalogue."""
        await self.session.execute(
            update(orm.plans)
            .where(orm.plans.c.province == plan.province, orm.plans.c.id == plan.id)
            .values(changed=False)
        )
