"""The SQL of the office's exceptions: a row of `period_exceptions` lets one unit report a closed period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import orm

_E = orm.period_exceptions.c


class PeriodExceptions:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def has(self, *, province: str, plan_id: str, period: str, unit: str) -> bool:
        where = and_(_E.province == province, _E.plan_id == plan_id, _E.period == period, _E.unit == unit)
        return bool(await self.session.scalar(select(exists().where(where))))

    async def of_period(self, *, province: str, plan_id: str, period: str) -> list[dict]:
        """The period's exceptions, by unit."""
        rows = await self.session.execute(
            select(_E.unit, _E.reason, _E.granted_by, _E.granted_at)
            .where(_E.province == province, _E.plan_id == plan_id, _E.period == period)
            .order_by(_E.unit)
        )
        return [dict(r._mapping) for r in rows]

    async def periods_of_unit(self, *, province: str, plan_id: str, unit: str) -> set[str]:
        """The periods the unit has an exception for."""
        query = select(_E.period).where(_E.province == province, _E.plan_id == plan_id, _E.unit == unit)
        return set(await self.session.scalars(query))

    async def grant(
        self, *, province: str, plan_id: str, period: str, unit: str, reason: str, by: str, at: datetime
    ) -> None:
        """Grant (or grant again, with the new reason) the unit's exception."""
        values = {"reason": reason, "granted_by": by, "granted_at": at}
        key = {"province": province, "plan_id": plan_id, "period": period, "unit": unit}
        stmt = insert(orm.period_exceptions).values(**key, **values)
        await self.session.execute(stmt.on_conflict_do_update(index_elements=list(_KEY), set_=values))

    async def revoke(self, *, province: str, plan_id: str, period: str, unit: str) -> bool:
        """Revoke it; False when there was none."""
        removed = await self.session.scalar(
            orm.period_exceptions.delete()
            .where(_E.province == province, _E.plan_id == plan_id, _E.period == period, _E.unit == unit)
            .returning(_E.unit)
        )
        return removed is not None


_KEY = ("province", "plan_id", "period", "unit")
