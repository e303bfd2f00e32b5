"""The notices sent: each (obligation, kind, sequence) at most once, decided by the insert in the same
transaction as the outbox row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.adapters import orm

n = orm.notices.c


class Notices:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, province: str, plan_id: str, period: str, unit: str, *, kind: str) -> int:
        """How many notices of this kind the unit has had for the period."""
        return await self.session.scalar(
            select(func.count()).where(
                n.province == province, n.plan_id == plan_id, n.period == period, n.unit == unit, n.kind == kind
            )
        )

    async def add(
        self,
        province: str,
        plan_id: str,
        period: str,
        unit: str,
        *,
        kind: str,
        sequence: int,
        fired_at: datetime,
        requested_by: str | None = None,
        message: str | None = None,
    ) -> None:
        await self.session.execute(
            orm.notices.insert().values(
                province=province,
                plan_id=plan_id,
                period=period,
                unit=unit,
                kind=kind,
                sequence=sequence,
                fired_at=fired_at,
                requested_by=requested_by,
                message=message,
            )
        )

    async def take(self, item: Any, units: list[str], *, now: datetime) -> set[str]:
        """Record a schedule row's notice for each of `units` in one statement; returns the units not noticed
        before (a row fired again finds its notices there and sends nothing twice)."""
        if not units:
            return set()
        each = func.unnest(literal(units, ARRAY(n.unit.type))).table_valued("unit").render_derived()
        rows = select(
            literal(item.province, n.province.type),
            literal(item.plan_id, n.plan_id.type),
            literal(item.period, n.period.type),
            each.c.unit,
            literal(item.kind, n.kind.type),
            literal(item.sequence, n.sequence.type),
            literal(now, n.fired_at.type),
        )
        added = (
            insert(orm.notices)
            .from_select(["province", "plan_id", "period", "unit", "kind", "sequence", "fired_at"], rows)
            .on_conflict_do_nothing()
            .returning(n.unit)
            .cte("added")
        )
        # One array in one row, not a row per unit: a round of 2,000 units comes back without 2,000 result rows.
        taken = await self.session.scalar(select(func.array_agg(added.c.unit)))
        return set(taken or ())
