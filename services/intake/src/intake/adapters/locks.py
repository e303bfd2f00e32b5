"""The SQL of period locks: a published period's row in `period_locks` refuses submissions and amendments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import orm

_L = orm.period_locks.c


class PeriodLocks:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_locked(self, province: str, plan_id: str, period: str) -> bool:
        return bool(
            await self.session.scalar(
                select(exists().where(and_(_L.province == province, _L.plan_id == plan_id, _L.period == period)))
            )
        )

    async def locked_periods(self, province: str, plan_id: str) -> set[str]:
        """Every locked period of one plan in one province."""
        return set(await self.session.scalars(select(_L.period).where(_L.province == province, _L.plan_id == plan_id)))

    async def add(self, *, province: str, plan_id: str, period: str, at: datetime, by: str, reason: str) -> bool:
        """Lock the period; False when it was locked already."""
        created = await self.session.scalar(
            insert(orm.period_locks)
            .values(province=province, plan_id=plan_id, period=period, locked_at=at, locked_by=by, reason=reason)
            .on_conflict_do_nothing()
            .returning(_L.period)
        )
        return created is not None

    async def remove(self, *, province: str, plan_id: str, period: str) -> bool:
        """Unlock the period; False when it was not locked."""
        removed = await self.session.scalar(
            orm.period_locks.delete()
            .where(_L.province == province, _L.plan_id == plan_id, _L.period == period)
            .returning(_L.period)
        )
        return removed is not None
