"""The plan periods the scheduler has opened: one row each, whose lock serialises work on that period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.adapters import orm

p = orm.periods.c


def _this(province: str, plan_id: str, period: str) -> tuple:
    return p.province == province, p.plan_id == plan_id, p.period == period


class Periods:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, province: str, plan_id: str, period: str) -> Any | None:
        """The period's row (due_at, closed_at, ...), or None when it is not opened."""
        return (await self.session.execute(select(orm.periods).where(*_this(province, plan_id, period)))).first()

    async def closed_at(self, province: str, plan_id: str, period: str) -> datetime | None:
        return await self.session.scalar(select(p.closed_at).where(*_this(province, plan_id, period)))

    async def opened(self, province: str, plan_id: str) -> list[Any]:
        """The plan's periods opened here (period, due_at, closed_at), newest first."""
        rows = await self.session.execute(
            select(p.period, p.due_at, p.closed_at)
            .where(p.province == province, p.plan_id == plan_id)
            .order_by(p.period.desc())
        )
        return list(rows)

    async def recent(self, province: str, plan_id: str, *, before: str, count: int) -> list[str]:
        """The codes of the last `count` periods opened up to `before`, oldest first."""
        rows = await self.session.execute(
            select(p.period)
            .where(p.province == province, p.plan_id == plan_id, p.period <= before)
            .order_by(p.period.desc())
            .limit(count)
        )
        return sorted(r.period for r in rows)

    async def opened_among(self, codes: set[str]) -> set[tuple[str, str, str]]:
        """(province, plan, period) of every opened period with one of these codes: one query a tick, not one a
        plan."""
        if not codes:
            return set()
        rows = await self.session.execute(select(p.province, p.plan_id, p.period).where(p.period.in_(sorted(codes))))
        return {tuple(row) for row in rows}

    async def open(self, province: str, plan_id: str, period: str, *, due_at: datetime, now: datetime) -> bool:
        """Open the period unless it is open already; True when this call opened it."""
        opened = await self.session.scalar(
            insert(orm.periods)
            .values(province=province, plan_id=plan_id, period=period, due_at=due_at, opened_at=now)
            .on_conflict_do_nothing()
            .returning(p.opened_at)
        )
        return opened is not None

    async def lock(self, province: str, plan_id: str, period: str) -> Any | None:
        """The period's (due_at, closed_at), locked for this transaction; None when another holds it."""
        return (
            await self.session.execute(
                select(p.due_at, p.closed_at).where(*_this(province, plan_id, period)).with_for_update(skip_locked=True)
            )
        ).first()

    async def close(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        await self.session.execute(orm.periods.update().where(*_this(province, plan_id, period)).values(closed_at=at))
