"""Timeliness as deadlines publishes it: each unit's obligation (`obligations`) and the period's close
(`period_closes`). Once the close has spoken for a unit (a final word), an earlier update arriving late
does not undo it, nor does the close's "missing" undo a final report (consolidation.domain.timeliness).
The batched upsert is set-based."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.deadlines import ObligationV1, PeriodClosedV1
from consolidation.adapters import orm
from consolidation.adapters.arrays import as_arrays, insert_from_arrays
from consolidation.domain.report import Timeliness
from consolidation.domain.timeliness import REPORTED

COLUMNS = (*orm.UNIT_KEY, "status", "due_at", "late_by_s", "final")
REPLACED = ("status", "due_at", "late_by_s", "final")


def _upsert(stmt):
    """Insert, or replace the stored word as consolidation.domain.timeliness.replaces says: unless it is final and
    the new one is not, or it is a final report and the new one a final "missing"."""
    t, new = orm.obligations, stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=orm.UNIT_KEY,
        set_={c: new[c] for c in REPLACED},
        where=~t.c.final | (new.final & (t.c.status.not_in(REPORTED) | new.status.in_(REPORTED))),
    )


UPSERT_MANY = _upsert(insert_from_arrays(orm.obligations, COLUMNS))


class Obligations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, o: ObligationV1, *, final: bool) -> None:
        stmt = insert(orm.obligations).values({**{c: getattr(o, c) for c in COLUMNS[:-1]}, "final": final})
        await self.session.execute(_upsert(stmt))

    async def record_latest(self, latest: Iterable[ObligationV1]) -> None:
        """`record` for many units at once, in one statement (each unit at most once; final when closed)."""
        latest = list(latest)
        columns = as_arrays(latest, COLUMNS[:-1])
        await self.session.execute(UPSERT_MANY, {**columns, "final": [o.closed for o in latest]})

    async def close(self, closed: PeriodClosedV1) -> None:
        """Remember that the period was closed (the first close counts)."""
        await self.session.execute(
            insert(orm.period_closes)
            .values(province=closed.province, plan_id=closed.plan_id, period=closed.period, closed_at=closed.closed_at)
            .on_conflict_do_nothing()
        )

    async def timeliness(self, province: str, plan_id: str, period: str) -> dict[str, Timeliness]:
        """Deadlines' word per unit, where it has spoken."""
        o = orm.obligations.c
        rows = await self.session.execute(
            select(orm.obligations).where(o.province == province, o.plan_id == plan_id, o.period == period)
        )
        return {r.unit: Timeliness(r.status, r.late_by_s) for r in rows}

    async def is_closed(self, province: str, plan_id: str, period: str) -> bool:
        c = orm.period_closes.c
        closed_at = await self.session.scalar(
            select(c.closed_at).where(c.province == province, c.plan_id == plan_id, c.period == period)
        )
        return closed_at is not None
