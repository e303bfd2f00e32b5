"""What each province owes the national office (the national level, issue 18 §1): its consolidated report of one
plan's period, due on the plan's province_due_day, and when it was first published."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.adapters import obligations, orm

po, pr = orm.province_obligations, orm.provinces


def _this(province: str, plan_id: str, period: str) -> tuple:
    return po.c.province == province, po.c.plan_id == plan_id, po.c.period == period


def _owed() -> tuple:
    return po.c.expected, po.c.due_at.is_not(None)


def _named():
    """The obligations with their province's name (None while the catalogue has not told it)."""
    return select(po, pr.c.doc["name"].astext.label("province_name")).join(pr, pr.c.code == po.c.province, isouter=True)


class ProvinceObligations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def published(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        """A publication, in any order: the earliest is the province's submission (a republish after a return
        does not change it), the latest is kept too. It may come before the period is opened here."""
        stmt = insert(po).values(
            province=province, plan_id=plan_id, period=period, first_published_at=at, last_published_at=at
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["province", "plan_id", "period"],
                set_={
                    "first_published_at": func.least(po.c.first_published_at, stmt.excluded.first_published_at),
                    "last_published_at": func.greatest(po.c.last_published_at, stmt.excluded.last_published_at),
                },
            )
        )

    async def owe(self, province: str, plan_id: str, dues: dict[str, datetime]) -> None:
        """The province owes these periods of the plan (code -> its deadline at the national office)."""
        if not dues:
            return
        stmt = insert(po).values(
            [
                {"province": province, "plan_id": plan_id, "period": code, "due_at": due, "expected": True}
                for code, due in dues.items()
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["province", "plan_id", "period"],
                set_={"due_at": stmt.excluded.due_at, "expected": True},
                where=po.c.due_at.is_distinct_from(stmt.excluded.due_at) | ~po.c.expected,
            )
        )

    async def not_expected_before(self, province: str, plan_id: str, first: str) -> None:
        """The plan's periods before `first` are history: the province owes them nothing here."""
        await self.session.execute(obligations.not_expected_before(po, province, plan_id, first))

    async def stop_unreported(self, province: str, plan_id: str, periods: Collection[str]) -> None:
        """The province is no longer in force in these periods: it owes them nothing, unless it published."""
        if periods:
            await self.session.execute(
                obligations.stop_unreported(po, po.c.first_published_at, province, plan_id, periods)
            )

    async def owed(self, province: str, plan_id: str, period: str) -> Any | None:
        """The province's owed obligation of the period with its name, or None."""
        return (await self.session.execute(_named().where(*_this(province, plan_id, period), *_owed()))).first()

    async def unannounced(self, province: str, plan_id: str, period: str) -> Any | None:
        """The owed obligation when it has a first publication nobody was told of yet, locked until this commits."""
        query = _named().where(
            *_this(province, plan_id, period),
            *_owed(),
            po.c.first_published_at.is_not(None),
            po.c.announced_at.is_(None),
        )
        return (await self.session.execute(query.with_for_update(of=po))).first()

    async def periods_to_announce(self, province: str, plan_id: str, periods: Collection[str]) -> list[str]:
        """Which of these periods the province published and nobody was told of yet."""
        rows = await self.session.scalars(
            select(po.c.period).where(
                po.c.province == province,
                po.c.plan_id == plan_id,
                po.c.period.in_(list(periods)),
                *_owed(),
                po.c.first_published_at.is_not(None),
                po.c.announced_at.is_(None),
            )
        )
        return sorted(rows)

    async def announced(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        await self.session.execute(update(po).where(*_this(province, plan_id, period)).values(announced_at=at))

    async def close(self, province: str, plan_id: str, period: str, *, at: datetime) -> None:
        await self.session.execute(update(po).where(*_this(province, plan_id, period)).values(closed_at=at))

    async def of_period(self, period: str, *, plan_id: str | None = None) -> list[Any]:
        """Every owed obligation of the period, all provinces, by province and plan."""
        query = _named().where(po.c.period == period, *_owed()).order_by(po.c.province, po.c.plan_id)
        if plan_id is not None:
            query = query.where(po.c.plan_id == plan_id)
        return list(await self.session.execute(query))

    async def of_keys(self, keys: Sequence[tuple[str, str, str]]) -> list[Any]:
        """The owed obligations among these (province, plan, period), by province and plan."""
        if not keys:
            return []
        query = _named().where(func.row(po.c.province, po.c.plan_id, po.c.period).in_(list(keys)), *_owed())
        return list(await self.session.execute(query.order_by(po.c.province, po.c.plan_id)))

    async def of_periods(self, periods: Collection[str], *, plan_id: str | None = None) -> list[Any]:
        """The owed obligations of several periods (a province's history), in one query."""
        if not periods:
            return []
        query = _named().where(po.c.period.in_(sorted(periods)), *_owed())
        if plan_id is not None:
            query = query.where(po.c.plan_id == plan_id)
        return list(await self.session.execute(query))

    async def periods(self, *, plan_id: str | None = None) -> list[Any]:
        """The periods some province owes (period, due_at: the earliest of its provinces'), newest first."""
        query = (
            select(po.c.period, func.min(po.c.due_at).label("due_at"))
            .where(*_owed())
            .group_by(po.c.period)
            .order_by(po.c.period.desc())
        )
        if plan_id is not None:
            query = query.where(po.c.plan_id == plan_id)
        return list(await self.session.execute(query))
