"""The plan periods the scheduler has opened: one row each, whose lock serialises work on that period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, column, delete, func, select, values
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

    async def newest(self, plans: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """For each (province, plan): the code of its newest period opened here (absent: none). One query a tick,
        whatever the number of plans or periods."""
        if not plans:
            return {}
        wanted = values(column("province", String), column("plan_id", String), name="wanted").data(plans)
        rows = await self.session.execute(
            select(p.province, p.plan_id, func.max(p.period))
            .select_from(orm.periods.join(wanted, and_(p.province == wanted.c.province, p.plan_id == wanted.c.plan_id)))
            .group_by(p.province, p.plan_id)
        )
        return {(province, plan_id): code for province, plan_id, code in rows}

    async def codes(self, province: str, plan_id: str) -> set[str]:
        """The codes of every period of the plan opened here."""
        rows = await self.session.scalars(select(p.period).where(p.province == province, p.plan_id == plan_id))
        return set(rows)

    async def open_many(self, province: str, plan_id: str, dues: dict[str, datetime], *, now: datetime) -> set[str]:
        """Open the periods (code -> due_at) not open already, in one statement; the codes this call opened."""
        if not dues:
            return set()
        rows = [
            {"province": province, "plan_id": plan_id, "period": code, "due_at": due, "opened_at": now}
            for code, due in dues.items()
        ]
        opened = await self.session.scalars(
            insert(orm.periods).values(rows).on_conflict_do_nothing().returning(p.period)
        )
        return set(opened)

    async def forget_before(self, province: str, plan_id: str, first: str) -> None:
        """Periods of the plan before `first` (now history) are no longer opened here."""
        await self.session.execute(
            delete(orm.periods).where(p.province == province, p.plan_id == plan_id, p.period < first)
        )

    async def lock(self, province: str, plan_id: str, period: str) -> Any | None:
        """The period's (due_at, closed_at), locked for this transaction; None when another holds it."""
        return (
            await self.session.execute(
                select(p.due_at, p.closed_at).where(*_this(province, plan_id, period)).with_for_update(skip_locked=True)
            )
        ).first()

    async def close(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        await self.session.execute(orm.periods.update().where(*_this(province, plan_id, period)).values(closed_at=at))
