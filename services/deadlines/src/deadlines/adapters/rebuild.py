"""What deadlines' rebuild restores from its own topic, baocao.deadlines: the notices already fired.

The state of the schedule is not in the events deadlines reads (the catalogue, submissions, reports) but in
what it said: each notice on baocao.deadlines is a row of `notices` and a schedule row that fired, each
`period.closed` a closed period, each first `obligation.updated` / `province_obligation.updated` the instant an
obligation was announced. These handlers write that back, so the scheduler, run after them, sees every notice
already sent as sent and fires nothing twice. Each takes the consumer's session and the event (its `time` is
the instant the scheduler or the operator fired it: `uow.publish(..., at=now)`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    NATIONAL_ESCALATION_RAISED,
    NUDGE_REQUESTED,
    OBLIGATION_UPDATED,
    PERIOD_CLOSED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_NUDGE_REQUESTED,
    PROVINCE_OBLIGATION_UPDATED,
    PROVINCE_REMINDER_DUE,
    REMINDER_DUE,
)
from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import parse_data
from deadlines.adapters import orm

# Everything the topics restore. Not derived, so kept: the outbox (the events sent; rows the replay writes are
# dropped), the dead-letter replay log, and the messaging tables' other bookkeeping.
DERIVED = (
    "provinces", "units", "plans", "periods", "obligations", "province_obligations", "scheduled_items", "notices",
    "account_access", "inbox",
)  # fmt: skip

s = orm.scheduled_items.c
NUDGE, PROVINCE_NUDGE = "nudge", "province_nudge"
PROVINCE_ITEM = {"reminder": "province_reminder", "overdue": "province_overdue"}


def _period(row) -> tuple:
    return (s.province == row.province, s.plan_id == row.plan_id, s.period == row.period)


async def _notice(
    session: AsyncSession, data, *, unit: str, kind: str, at: datetime, requested_by=None, message=None
) -> None:
    await session.execute(
        insert(orm.notices)
        .values(
            province=data.province,
            plan_id=data.plan_id,
            period=data.period,
            unit=unit,
            kind=kind,
            sequence=data.sequence,
            fired_at=at,
            requested_by=requested_by,
            message=message,
        )
        .on_conflict_do_nothing()
    )


async def _item_fired(session: AsyncSession, data, *, kind: str, at: datetime, **where) -> None:
    """The schedule row (of the period, this kind, and `where`) fired at `at`: the earliest notice of it."""
    await session.execute(
        update(orm.scheduled_items)
        .where(*_period(data), s.kind == kind, *(s[c] == v for c, v in where.items()))
        .values(state="fired", fired_at=func.least(func.coalesce(s.fired_at, at), at))
    )


async def unit_notice(session: AsyncSession, event: CloudEvent) -> None:
    """A reminder or overdue notice (a schedule row), or an operator's nudge (no schedule row)."""
    data = parse_data(event)
    if data.kind == NUDGE:
        await _notice(session, data, unit=data.unit, kind=NUDGE, at=event.time, requested_by=data.requested_by,
                      message=data.message)  # fmt: skip
        return
    await _notice(session, data, unit=data.unit, kind=data.kind, at=event.time)
    await _item_fired(session, data, kind=data.kind, at=event.time, sequence=data.sequence)


async def province_notice(session: AsyncSession, event: CloudEvent) -> None:
    """The national level's: a province's reminder or overdue notice, or the national office's nudge."""
    data = parse_data(event)
    if event.type == PROVINCE_NUDGE_REQUESTED.type:
        await _notice(session, data, unit=data.province, kind=PROVINCE_NUDGE, at=event.time,
                      requested_by=data.requested_by, message=data.message)  # fmt: skip
        return
    kind = PROVINCE_ITEM[data.kind]
    await _notice(session, data, unit=data.province, kind=kind, at=event.time)
    await _item_fired(session, data, kind=kind, at=event.time, sequence=data.sequence)


async def escalation(session: AsyncSession, event: CloudEvent) -> None:
    data = parse_data(event)
    await _item_fired(session, data, kind="escalation", at=event.time, fire_at=data.fire_at)


async def national_escalation(session: AsyncSession, event: CloudEvent) -> None:
    """One digest fired every province's row of its period and instant (handlers.national)."""
    data = parse_data(event)
    await session.execute(
        update(orm.scheduled_items)
        .where(s.kind == "national_escalation", s.period == data.period, s.fire_at == data.fire_at)
        .values(state="fired", fired_at=func.least(func.coalesce(s.fired_at, event.time), event.time))
    )


async def period_closed(session: AsyncSession, event: CloudEvent) -> None:
    data = parse_data(event)
    p = orm.periods.c
    await session.execute(
        update(orm.periods)
        .where(p.province == data.province, p.plan_id == data.plan_id, p.period == data.period)
        .values(closed_at=data.closed_at)
    )
    await _item_fired(session, data, kind="close", at=event.time)


async def obligation_updated(session: AsyncSession, event: CloudEvent) -> None:
    """An obligation's announcement (its first submission): announced then, not when the rebuild opened it."""
    data = parse_data(event)
    if data.first_submitted_at is None:
        return
    o = orm.obligations.c
    await session.execute(
        update(orm.obligations)
        .where(o.province == data.province, o.plan_id == data.plan_id, o.period == data.period, o.unit == data.unit)
        .values(announced_at=func.least(func.coalesce(o.announced_at, event.time), event.time))
    )


async def province_obligation_updated(session: AsyncSession, event: CloudEvent) -> None:
    """A province's first publication announced; or, `missing` at its national close, that close fired."""
    data = parse_data(event)
    po = orm.province_obligations.c
    key = (po.province == data.province, po.plan_id == data.plan_id, po.period == data.period)
    if data.first_published_at is not None:
        await session.execute(
            update(orm.province_obligations)
            .where(*key)
            .values(announced_at=func.least(func.coalesce(po.announced_at, event.time), event.time))
        )
    elif data.closed:  # closed as the scheduler closes it: at the row's instant (handlers.national.national_close)
        await _item_fired(session, data, kind="national_close", at=event.time)
        fired = (
            select(s.fire_at)
            .where(*_period(data), s.kind == "national_close")
            .order_by(s.fire_at)
            .limit(1)
            .scalar_subquery()
        )
        await session.execute(update(orm.province_obligations).where(*key).values(closed_at=fired))


FIRED = {
    REMINDER_DUE.type: unit_notice,
    DEADLINE_MISSED.type: unit_notice,
    NUDGE_REQUESTED.type: unit_notice,
    PROVINCE_REMINDER_DUE.type: province_notice,
    PROVINCE_DEADLINE_MISSED.type: province_notice,
    PROVINCE_NUDGE_REQUESTED.type: province_notice,
    ESCALATION_RAISED.type: escalation,
    NATIONAL_ESCALATION_RAISED.type: national_escalation,
    PERIOD_CLOSED.type: period_closed,
    OBLIGATION_UPDATED.type: obligation_updated,
    PROVINCE_OBLIGATION_UPDATED.type: province_obligation_updated,
}
