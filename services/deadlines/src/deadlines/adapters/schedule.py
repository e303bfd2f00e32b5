"""The period-level schedule: each row fires once, at its instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.adapters import orm

s = orm.scheduled_items.c
# The national escalation digest spans provinces: its rows fire together (national_due), not with their period's.
NATIONAL_DIGEST = "national_escalation"


class Schedule:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, rows: list[dict[str, Any]]) -> None:
        """The rows not there yet (one per period, kind and sequence), in one statement."""
        if rows:
            await self.session.execute(insert(orm.scheduled_items).values(rows).on_conflict_do_nothing())

    async def forget_before(self, province: str, plan_id: str, first: str) -> None:
        """The rows of the plan's periods before `first` (now history) that never fired are dropped: nothing
        fires for history. Rows that fired stay, as the record of what was sent."""
        await self.session.execute(
            delete(orm.scheduled_items).where(
                s.province == province, s.plan_id == plan_id, s.period < first, s.state != "fired"
            )
        )

    async def national_due(self, *, now: datetime, limit: int = 1000) -> list[Any]:
        """The national escalation rows due to fire (any province, plan and period), locked for this transaction;
        rows another instance holds are skipped. They fire together, one digest per period and instant."""
        rows = await self.session.execute(
            select(orm.scheduled_items)
            .where(s.kind == NATIONAL_DIGEST, s.state == "pending", s.fire_at <= now)
            .order_by(s.fire_at, s.period, s.province, s.plan_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return rows.all()

    async def periods_due(self, *, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(province, plan, period) of the periods with rows due to fire, earliest deadline first."""
        p = orm.periods.c
        due = await self.session.execute(
            select(p.province, p.plan_id, p.period)
            .where(
                exists().where(
                    and_(
                        s.province == p.province,
                        s.plan_id == p.plan_id,
                        s.period == p.period,
                        s.state == "pending",
                        s.fire_at <= now,
                        s.kind != NATIONAL_DIGEST,
                    )
                )
            )
            .order_by(p.due_at)
            .limit(limit)
        )
        return [tuple(row) for row in due]

    async def due(self, province: str, plan_id: str, period: str, *, now: datetime) -> list[Any]:
        """The period's rows due to fire at `now` (kind, sequence, day_offset, fire_at, ...)."""
        rows = await self.session.execute(
            select(orm.scheduled_items).where(
                s.province == province,
                s.plan_id == plan_id,
                s.period == period,
                s.state == "pending",
                s.fire_at <= now,
                s.kind != NATIONAL_DIGEST,
            )
        )
        return rows.all()

    async def fired(self, item: Any, *, at: datetime) -> None:
        await self.session.execute(
            orm.scheduled_items.update().where(s.id == item.id).values(state="fired", fired_at=at)
        )

    async def fired_many(self, ids: list[int], *, at: datetime) -> None:
        if ids:
            await self.session.execute(
                orm.scheduled_items.update().where(s.id.in_(ids)).values(state="fired", fired_at=at)
            )
