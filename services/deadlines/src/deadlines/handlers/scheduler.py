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

from pydantic import TypeAdapter

from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    PERIOD_CLOSED,
    REMINDER_DUE,
    EscalationV1,
    PeriodClosedV1,
    UnitNoticeV1,
)
from deadlines.adapters.uow import DeadlinesUnitOfWork, Sessions
from deadlines.domain.schedule import KIND_ORDER, reminds_now
from deadlines.handlers import national
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.views import period_views, unit_name, waiting_rows


def _about(item: Any, due_at: datetime) -> dict[str, Any]:
    """What every notice of a schedule row says of its period."""
    return {"province": item.province, "plan_id": item.plan_id, "period": item.period, "due_at": due_at}


_NOTICES = TypeAdapter(list[UnitNoticeV1])

# Periods fired at once, each in its own transaction: one builds its events while another's are written.
FIRING_LANES = 2


async def tick(sessions: Sessions, *, now: datetime, max_periods: int = 100) -> int:
    """Open what is due to open, then fire what is due to fire; returns how many rows fired."""
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await open_due_periods(uow, now=now)
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        due = await uow.schedule.periods_due(now=now, limit=max_periods)
    lanes = asyncio.Semaphore(FIRING_LANES)

    async def fire(province: str, plan_id: str, period: str) -> int:
        async with lanes, DeadlinesUnitOfWork.begin(sessions) as uow:
            return await fire_period(uow, province, plan_id, period, now=now)

    async with asyncio.TaskGroup() as group:  # one period failing cancels the rest, as the loop stopped before
        firing = [group.create_task(fire(*key)) for key in due]
    # The national escalation digests span provinces: after the periods, so a province's own rows due at the same
    # instant (its national close) fired first.
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        digests = await national.fire_national_escalations(uow, now=now)
    return sum(task.result() for task in firing) + digests


async def fire_period(uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime) -> int:
    """Fire the period's due rows in order; returns how many fired (none while another instance holds it)."""
    locked = await uow.periods.lock(province, plan_id, period)
    if locked is None:
        return 0  # another instance is on it
    items = await uow.schedule.due(province, plan_id, period, now=now)
    for item in sorted(items, key=lambda i: (i.fire_at, KIND_ORDER[i.kind], i.sequence)):
        await FIRE[item.kind](uow, item, due_at=locked.due_at, now=now)
        await uow.schedule.fired(item, at=now)
    return len(items)


async def _unit_notices(uow: DeadlinesUnitOfWork, item: Any, *, due_at: datetime, now: datetime) -> None:
    """Reminders go to units that have not submitted, before due_at; overdue notices to units still missing."""
    if not reminds_now(item.kind, due_at=due_at, now=now):
        return
    waiting = await waiting_rows(uow, item.province, item.plan_id, item.period, now=item.fire_at)
    taken = await uow.notices.take(item, [row.unit for row in waiting], now=now)
    late = int((item.fire_at - due_at).total_seconds()) if item.kind == "overdue" else None
    notice = {
        **_about(item, due_at),
        "kind": item.kind,
        "sequence": item.sequence,
        "day_offset": item.day_offset,
        "fire_at": item.fire_at,
        "late_by_s": late,
    }
    # Validated as one list by pydantic-core: a round is thousands of notices.
    notices = _NOTICES.validate_python(
        [{**notice, "unit": row.unit, "unit_name": unit_name(row)} for row in waiting if row.unit in taken]
    )
    await uow.publish(
        REMINDER_DUE if item.kind == "reminder" else DEADLINE_MISSED, notices, province=item.province, at=now
    )


async def _escalation(uow: DeadlinesUnitOfWork, item: Any, *, due_at: datetime, now: datetime) -> None:
    """A digest of the units still missing to the province's operators; none when every unit has reported."""
    views, summary = await period_views(uow, item.province, item.plan_id, item.period, now=item.fire_at)
    missing = [{"unit": v.unit, "unit_name": v.unit_name} for v in views if v.status == "missing"]
    if not missing:
        return
    digest = EscalationV1(
        **_about(item, due_at),
        fire_at=item.fire_at,
        expected=summary["expected"],
        missing_units=missing,
    )
    await uow.publish(ESCALATION_RAISED, digest, province=item.province, at=now)


async def _close(uow: DeadlinesUnitOfWork, item: Any, *, due_at: datetime, now: datetime) -> None:
    """Close the period: `missing` is final, and its figures are settled."""
    await uow.periods.close(item.province, item.plan_id, item.period, at=item.fire_at)
    views, summary = await period_views(uow, item.province, item.plan_id, item.period, now=item.fire_at)
    closed = PeriodClosedV1(
        **_about(item, due_at),
        closed_at=item.fire_at,
        expected=summary["expected"],
        on_time=summary["on_time"],
        late=summary["late"],
        missing=summary["missing"],
        units=views,
    )
    await uow.publish(PERIOD_CLOSED, closed, province=item.province, at=now)


FIRE = {
    "reminder": _unit_notices,
    "overdue": _unit_notices,
    "escalation": _escalation,
    "close": _close,
    "province_reminder": national.province_notice,
    "province_overdue": national.province_notice,
    "national_close": national.national_close,
}
