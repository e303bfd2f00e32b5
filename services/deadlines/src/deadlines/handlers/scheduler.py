"""Fire due schedule rows through the outbox, exactly once each, in order for every unit.

A tick claims periods that have due rows with FOR UPDATE SKIP LOCKED, so two instances never work
on one period at once; within a period, rows fire in (fire_at, kind) order. A row fans out to the
obligations that qualify at that moment, and the `notices` key (obligation, kind, sequence) makes
each notice happen once even if a row were replayed. A tick fires FIRING_LANES periods at a time,
each in its own transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from baocao_shared.events import make_event, topics
from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    PERIOD_CLOSED,
    REMINDER_DUE,
    EscalationV1,
    PeriodClosedV1,
    UnitNoticeV1,
)
from baocao_shared.messaging.outbox import enqueue
from deadlines.adapters import orm
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.views import period_views, unit_name, waiting_rows

SOURCE = "/baocao/deadlines"
# Periods fired at once, each in its own transaction: one builds its events while another's are written.
FIRING_LANES = 2
KIND_ORDER = {"reminder": 0, "overdue": 1, "escalation": 2, "close": 3}


async def tick(sessionmaker: async_sessionmaker, *, now: datetime, max_periods: int = 100, backfill: int = 0) -> int:
    """Open what is due to open, then fire what is due to fire; returns how many rows fired."""
    async with sessionmaker() as session, session.begin():
        await open_due_periods(session, now=now, backfill=backfill)
    s, p = orm.scheduled_items.c, orm.periods.c
    async with sessionmaker() as session:
        due = (
            await session.execute(
                select(p.province, p.plan_id, p.period)
                .where(
                    exists().where(
                        and_(
                            s.province == p.province,
                            s.plan_id == p.plan_id,
                            s.period == p.period,
                            s.state == "pending",
                            s.fire_at <= now,
                        )
                    )
                )
                .order_by(p.due_at)
                .limit(max_periods)
            )
        ).all()
    lanes = asyncio.Semaphore(FIRING_LANES)

    async def fire(province: str, plan_id: str, period: str) -> int:
        async with lanes, sessionmaker() as session, session.begin():
            return await fire_period(session, province, plan_id, period, now=now)

    async with asyncio.TaskGroup() as group:  # one period failing cancels the rest, as the loop stopped before
        firing = [group.create_task(fire(*key)) for key in due]
    return sum(task.result() for task in firing)


async def fire_period(session: AsyncSession, province: str, plan_id: str, period: str, *, now: datetime) -> int:
    p, s = orm.periods.c, orm.scheduled_items.c
    locked = (
        await session.execute(
            select(p.due_at, p.closed_at)
            .where(p.province == province, p.plan_id == plan_id, p.period == period)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if locked is None:
        return 0  # another instance is on it
    items = (
        await session.execute(
            select(orm.scheduled_items).where(
                s.province == province, s.plan_id == plan_id, s.period == period, s.state == "pending", s.fire_at <= now
            )
        )
    ).all()
    for item in sorted(items, key=lambda i: (i.fire_at, KIND_ORDER[i.kind], i.sequence)):
        await FIRE[item.kind](session, item, due_at=locked.due_at, now=now)
        await session.execute(orm.scheduled_items.update().where(s.id == item.id).values(state="fired", fired_at=now))
    return len(items)


async def _unit_notices(session: AsyncSession, item: Any, *, due_at: datetime, now: datetime) -> None:
    """Reminders go to units that have not submitted, before due_at; overdue notices to units still missing."""
    if item.kind == "reminder" and now >= due_at:
        return  # too late to remind; the overdue notices take over
    waiting = await waiting_rows(session, item.province, item.plan_id, item.period, now=item.fire_at)
    taken = await _take_notices(session, item, [row.unit for row in waiting], now=now)
    late = int((item.fire_at - due_at).total_seconds()) if item.kind == "overdue" else None
    spec = REMINDER_DUE if item.kind == "reminder" else DEADLINE_MISSED
    events = [
        make_event(
            spec,
            UnitNoticeV1(
                province=item.province,
                plan_id=item.plan_id,
                period=item.period,
                unit=row.unit,
                unit_name=unit_name(row),
                due_at=due_at,
                kind=item.kind,
                sequence=item.sequence,
                day_offset=item.day_offset,
                fire_at=item.fire_at,
                late_by_s=late,
            ),
            source=SOURCE,
            province=item.province,
            time=now,
        )
        for row in waiting
        if row.unit in taken
    ]
    await enqueue(session, orm.outbox, topics.DEADLINES, events)


async def _take_notices(session: AsyncSession, item: Any, units: list[str], *, now: datetime) -> set[str]:
    """Record the item's notice for each of `units` in one statement; returns the units not noticed before
    (a row fired again finds its notices there and sends nothing twice)."""
    if not units:
        return set()
    n = orm.notices.c
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
    stmt = (
        insert(orm.notices)
        .from_select(["province", "plan_id", "period", "unit", "kind", "sequence", "fired_at"], rows)
        .on_conflict_do_nothing()
        .returning(n.unit)
    )
    return set((await session.scalars(stmt)).all())


async def _escalation(session: AsyncSession, item: Any, *, due_at: datetime, now: datetime) -> None:
    views, summary = await period_views(session, item.province, item.plan_id, item.period, now=item.fire_at)
    missing = [{"unit": v.unit, "unit_name": v.unit_name} for v in views if v.status == "missing"]
    if not missing:
        return
    digest = EscalationV1(
        province=item.province,
        plan_id=item.plan_id,
        period=item.period,
        due_at=due_at,
        fire_at=item.fire_at,
        expected=summary["expected"],
        missing_units=missing,
    )
    await enqueue(
        session,
        orm.outbox,
        topics.DEADLINES,
        [make_event(ESCALATION_RAISED, digest, source=SOURCE, province=item.province, time=now)],
    )


async def _close(session: AsyncSession, item: Any, *, due_at: datetime, now: datetime) -> None:
    p = orm.periods.c
    await session.execute(
        orm.periods.update()
        .where(p.province == item.province, p.plan_id == item.plan_id, p.period == item.period)
        .values(closed_at=item.fire_at)
    )
    views, summary = await period_views(session, item.province, item.plan_id, item.period, now=item.fire_at)
    closed = PeriodClosedV1(
        province=item.province,
        plan_id=item.plan_id,
        period=item.period,
        due_at=due_at,
        closed_at=item.fire_at,
        expected=summary["expected"],
        on_time=summary["on_time"],
        late=summary["late"],
        missing=summary["missing"],
        units=views,
    )
    await enqueue(
        session,
        orm.outbox,
        topics.DEADLINES,
        [make_event(PERIOD_CLOSED, closed, source=SOURCE, province=item.province, time=now)],
    )


FIRE = {"reminder": _unit_notices, "overdue": _unit_notices, "escalation": _escalation, "close": _close}
