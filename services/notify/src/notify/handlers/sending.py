"""Send the pending deliveries: claim, send, settle, and say so on baocao.notifications.

Each delivery is claimed (FOR UPDATE SKIP LOCKED), sent and settled in its own transaction, a few
at a time, so several senders never send one row and a slow mail server does not hold the others.
A failed attempt waits before the next (exponential with jitter, tenacity's wait strategy); after
`max_attempts` the delivery is `failed` with its reason. The status change and its
notification.sent/.failed event commit together.

A crash between the channel's answer and that commit sends the message again when the sender
restarts (at least once): at most `concurrency` deliveries are in that window at any moment. The
email keeps its Message-ID and the webhook its webhook-id across attempts, so a receiver can
recognise the second copy. docs/RELIABILITY.md gives the measured figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import RetryCallState, wait_exponential_jitter

from baocao_shared.events import make_event
from baocao_shared.events.notifications import NOTIFICATION_FAILED, NOTIFICATION_SENT, DeliveryV1
from baocao_shared.events.topics import NOTIFICATIONS
from baocao_shared.faults import fault_point
from baocao_shared.messaging.outbox import enqueue
from notify.adapters import orm
from notify.adapters.channels import Channel

log = structlog.get_logger(__name__)
SOURCE = "/baocao/notify"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_s: float
    max_s: float

    def wait_after(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
        state.attempt_number = attempts
        wait = wait_exponential_jitter(multiplier=self.initial_s, max=self.max_s, jitter=self.initial_s)
        return timedelta(seconds=wait(state))


async def send_due(
    sessionmaker: async_sessionmaker,
    channels: Mapping[str, Channel],
    *,
    now: datetime,
    policy: RetryPolicy,
    batch: int = 50,
    concurrency: int = 4,
) -> int:
    """Attempt up to `batch` deliveries whose time has come, `concurrency` at once; returns how many."""
    attempted = 0

    async def work() -> None:
        nonlocal attempted
        while attempted < batch:
            attempted += 1
            if not await _attempt_next(sessionmaker, channels, now=now, policy=policy):
                attempted -= 1
                return

    # A TaskGroup: when one worker fails (the database is gone), the others are cancelled with it, so a
    # restarted sender never runs beside leftovers and no more than `concurrency` are ever in flight.
    async with asyncio.TaskGroup() as workers:
        for _ in range(max(1, min(concurrency, batch))):
            workers.create_task(work())
    return attempted


async def _attempt_next(sessionmaker: async_sessionmaker, channels, *, now: datetime, policy: RetryPolicy) -> bool:
    """Claim one due delivery, attempt it and record the outcome in one transaction; False if none is due."""
    d = orm.deliveries
    async with sessionmaker() as session, session.begin():
        row = (
            await session.execute(
                select(d)
                .where(d.c.status == "pending", d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:
            return False
        await _attempt(session, row, channels, now=now, policy=policy)
    return True


async def _attempt(session: AsyncSession, row, channels: Mapping[str, Channel], *, now: datetime, policy) -> None:
    attempts = row.attempts + 1
    bound = log.bind(delivery_id=str(row.id), event_id=str(row.cause_event_id), province=row.province)
    try:
        async with session.begin_nested():  # a failed inbox insert must not spoil the batch
            await channels[row.channel].send(session, row)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= policy.max_attempts:
            await _settle(session, row, status="failed", attempts=attempts, now=now, error=error)
            bound.error("delivery.failed", attempts=attempts, error=error)
        else:
            wait = policy.wait_after(attempts)
            await session.execute(
                update(orm.deliveries)
                .where(orm.deliveries.c.id == row.id)
                .values(attempts=attempts, last_error=error, next_attempt_at=now + wait)
            )
            bound.warning("delivery.retrying", attempts=attempts, error=error, wait_s=wait.total_seconds())
        return
    fault_point("notify.after_send")  # the at-least-once window: sent, not yet recorded
    await _settle(session, row, status="sent", attempts=attempts, now=now)
    bound.info("delivery.sent", channel=row.channel, attempts=attempts)


async def _settle(session: AsyncSession, row, *, status: str, attempts: int, now: datetime, error: str | None = None):
    values = {"status": status, "attempts": attempts, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    await session.execute(update(orm.deliveries).where(orm.deliveries.c.id == row.id).values(**values))
    outcome = DeliveryV1(
        delivery_id=row.id,
        cause_event_id=row.cause_event_id,
        cause_type=row.cause_type,
        province=row.province,
        unit=row.unit,
        period=row.period,
        channel=row.channel,
        recipient=row.recipient,
        attempts=attempts,
        at=now,
        reason=error,
    )
    spec = NOTIFICATION_SENT if status == "sent" else NOTIFICATION_FAILED
    await enqueue(
        session, orm.outbox, NOTIFICATIONS, [make_event(spec, outcome, source=SOURCE, province=row.province, time=now)]
    )
