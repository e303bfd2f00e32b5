"""Read models: an obligation as others see it, and the compliance of a period."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.deadlines import ObligationV1
from deadlines.adapters import orm
from deadlines.domain.timeliness import classify, counts_after_close, late_by_s, summarize


def _status(row: Any, closed_at: datetime | None, now: datetime) -> tuple[str, datetime | None]:
    first = (
        row.first_submitted_at if counts_after_close(submitted_at=row.first_submitted_at, closed_at=closed_at) else None
    )
    return classify(due_at=row.due_at, first_submitted_at=first, now=now), first


async def obligation_rows(
    session: AsyncSession, province: str, plan_id: str, period: str, *, units: Collection[str] | None = None
) -> list[Any]:
    """The period's owed obligations with their units' names, in unit order; only `units` when given."""
    o, u = orm.obligations, orm.units
    query = (
        select(o, u.c.doc["name"].astext.label("unit_name"))
        .join(u, (u.c.province == o.c.province) & (u.c.code == o.c.unit), isouter=True)
        .where(
            o.c.province == province,
            o.c.plan_id == plan_id,
            o.c.period == period,
            o.c.expected,
            o.c.due_at.is_not(None),
        )
        .order_by(o.c.unit)
    )
    if units is not None:
        query = query.where(o.c.unit.in_(list(units)))
    return list(await session.execute(query))


def unit_name(row: Any) -> str:
    """The unit's name from the catalogue, or its code while the catalogue has not told it."""
    return row.unit_name or row.unit


def to_view(row: Any, *, closed_at: datetime | None, now: datetime) -> ObligationV1:
    status, first = _status(row, closed_at, now)
    return ObligationV1(
        province=row.province,
        plan_id=row.plan_id,
        period=row.period,
        unit=row.unit,
        unit_name=unit_name(row),
        due_at=row.due_at,
        status=status,
        first_submitted_at=first,
        late_by_s=late_by_s(due_at=row.due_at, first_submitted_at=first),
        amended_after_due=row.amended_after_due,
        closed=closed_at is not None,
    )


async def closed_at_of(session: AsyncSession, province: str, plan_id: str, period: str) -> datetime | None:
    p = orm.periods.c
    return await session.scalar(
        select(p.closed_at).where(p.province == province, p.plan_id == plan_id, p.period == period)
    )


async def obligation_view(
    session: AsyncSession, province: str, plan_id: str, period: str, unit: str, *, now: datetime
) -> ObligationV1 | None:
    rows = await obligation_rows(session, province, plan_id, period, units=[unit])
    if not rows:
        return None
    return to_view(rows[0], closed_at=await closed_at_of(session, province, plan_id, period), now=now)


async def unit_views(
    session: AsyncSession, province: str, plan_id: str, period: str, units: Collection[str], *, now: datetime
) -> list[ObligationV1]:
    """The views of some units' obligations only (an announcement must not build the whole period's)."""
    closed_at = await closed_at_of(session, province, plan_id, period)
    rows = await obligation_rows(session, province, plan_id, period, units=units)
    return [to_view(r, closed_at=closed_at, now=now) for r in rows]


async def period_views(
    session: AsyncSession, province: str, plan_id: str, period: str, *, now: datetime
) -> tuple[list[ObligationV1], dict[str, Any]]:
    closed_at = await closed_at_of(session, province, plan_id, period)
    views = [
        to_view(r, closed_at=closed_at, now=now) for r in await obligation_rows(session, province, plan_id, period)
    ]
    return views, summarize(v.status for v in views)


async def waiting_rows(session: AsyncSession, province: str, plan_id: str, period: str, *, now: datetime) -> list[Any]:
    """The obligation rows with nothing counted at `now` (pending or missing), in unit order: whom a
    reminder or an overdue notice goes to. Same rule as the views, without building a view per unit."""
    closed_at = await closed_at_of(session, province, plan_id, period)
    rows = await obligation_rows(session, province, plan_id, period)
    return [r for r in rows if _status(r, closed_at, now)[0] in ("pending", "missing")]
