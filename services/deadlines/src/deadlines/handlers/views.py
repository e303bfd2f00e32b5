"""Read models: an obligation as others see it, and the compliance of a period."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from baocao_shared.events.deadlines import ObligationV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.timeliness import after_close, awaited, late_by_s, standing, summarize


def unit_name(row: Any) -> str:
    """The unit's name from the catalogue, or its code while the catalogue has not told it."""
    return row.unit_name or row.unit


def _standing(row: Any, *, closed_at: datetime | None, now: datetime) -> tuple[str, datetime | None]:
    return standing(
        due_at=row.due_at,
        first_submitted_at=row.first_submitted_at,
        closed_at=closed_at,
        now=now,
        excepted=row.after_close,
    )


def status_of(row: Any, *, closed_at: datetime | None, now: datetime) -> str:
    """The obligation row's status at `now` (domain.timeliness.standing)."""
    return _standing(row, closed_at=closed_at, now=now)[0]


def sent_after_close(row: Any, *, closed_at: datetime | None) -> bool:
    """The row's counted report came after the close, under the office's exception (domain.timeliness)."""
    return after_close(first_submitted_at=row.first_submitted_at, closed_at=closed_at, excepted=row.after_close)


def to_view(row: Any, *, closed_at: datetime | None, now: datetime) -> ObligationV1:
    """An obligation row (of Obligations.owed) as the others see it."""
    status, first = _standing(row, closed_at=closed_at, now=now)
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


async def unit_views(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, units: Collection[str], *, now: datetime
) -> list[ObligationV1]:
    """The views of some units' obligations only (an announcement must not build the whole period's)."""
    closed_at = await uow.periods.closed_at(province, plan_id, period)
    rows = await uow.obligations.owed(province, plan_id, period, units=units)
    return [to_view(r, closed_at=closed_at, now=now) for r in rows]


async def period_views(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime
) -> tuple[list[ObligationV1], dict[str, Any]]:
    """Every owed obligation of the period, and its figures."""
    views, summary, _ = await period_table(uow, province, plan_id, period, now=now)
    return views, summary


async def period_table(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime
) -> tuple[list[ObligationV1], dict[str, Any], set[str]]:
    """Every owed obligation of the period, its figures, and the units whose report came after the close
    under the office's exception (counted late)."""
    closed_at = await uow.periods.closed_at(province, plan_id, period)
    rows = await uow.obligations.owed(province, plan_id, period)
    views = [to_view(r, closed_at=closed_at, now=now) for r in rows]
    late_after_close = {r.unit for r in rows if sent_after_close(r, closed_at=closed_at)}
    return views, summarize(v.status for v in views), late_after_close


async def waiting_rows(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime
) -> list[Any]:
    """The obligation rows with nothing counted at `now` (pending or missing), in unit order: whom a
    reminder or an overdue notice goes to. Same rule as the views, without building a view per unit."""
    closed_at = await uow.periods.closed_at(province, plan_id, period)
    rows = await uow.obligations.awaiting(province, plan_id, period)
    return [r for r in rows if awaited(status_of(r, closed_at=closed_at, now=now))]
