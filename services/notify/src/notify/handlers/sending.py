"""Send the pending deliveries: claim, send, settle, and say so on baocao.notifications.

Rows are claimed with FOR UPDATE SKIP LOCKED, so several senders never send one row. A failed
attempt waits before the next (exponential with jitter, tenacity's wait strategy); after
`max_attempts` the delivery is `failed` with its reason. The status change and its
notification.sent/.failed event commit together. A crash between the SMTP server's answer and
the commit sends that mail again (at least once).
"""

from __future__ import annotations

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
) -> int:
    """Send one batch of deliveries whose time has come; returns how many were settled or retried."""
    d = orm.deliveries
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(d)
                .where(d.c.status == "pending", d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            await _attempt(session, row, channels, now=now, policy=policy)
    return len(rows)


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
