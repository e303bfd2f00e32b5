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
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from tenacity import RetryCallState, wait_exponential_jitter

from baocao_shared.events.notifications import NOTIFICATION_FAILED, NOTIFICATION_SENT, DeliveryV1
from baocao_shared.faults import fault_point
from notify.adapters.channels import Channel
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.delivery import Delivery

log = structlog.get_logger(__name__)
# What notification.sent/.failed repeat of the delivery they settle.
_ANNOUNCED = ("cause_event_id", "cause_type", "province", "unit", "period", "channel", "recipient")
UnitsOfWork = Callable[[], AbstractAsyncContextManager[NotifyUnitOfWork]]  # a new transaction at each call


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
    units_of_work: UnitsOfWork,
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
            if not await _attempt_next(units_of_work, channels, now=now, policy=policy):
                attempted -= 1
                return

    # A TaskGroup: when one worker fails (the database is gone), the others are cancelled with it, so a
    # restarted sender never runs beside leftovers and no more than `concurrency` are ever in flight.
    async with asyncio.TaskGroup() as workers:
        for _ in range(max(1, min(concurrency, batch))):
            workers.create_task(work())
    return attempted


async def _attempt_next(
    units_of_work: UnitsOfWork, channels: Mapping[str, Channel], *, now: datetime, policy: RetryPolicy
) -> bool:
    """Claim one due delivery, attempt it and record the outcome in one transaction; False if none is due."""
    async with units_of_work() as uow:
        delivery = await uow.deliveries.claim_due(now=now)
        if delivery is None:
            return False
        await attempt(uow, delivery, channels, now=now, policy=policy)
    return True


async def attempt(
    uow: NotifyUnitOfWork, delivery: Delivery, channels: Mapping[str, Channel], *, now: datetime, policy: RetryPolicy
) -> None:
    """Send a claimed delivery once: sent, retried later, or failed for good after its last attempt."""
    attempts = delivery.attempts + 1
    bound = log.bind(delivery_id=str(delivery.id), event_id=str(delivery.cause_event_id), province=delivery.province)
    try:
        async with uow.savepoint():  # a failed inbox insert must not spoil the batch
            await channels[delivery.channel].send(uow, delivery)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= policy.max_attempts:
            await _settle(uow, delivery, sent=False, attempts=attempts, now=now, error=error)
            bound.error("delivery.failed", attempts=attempts, error=error)
        else:
            wait = policy.wait_after(attempts)
            await uow.deliveries.retry_later(
                delivery.id, attempts=attempts, last_error=error, next_attempt_at=now + wait
            )
            bound.warning("delivery.retrying", attempts=attempts, error=error, wait_s=wait.total_seconds())
        return
    fault_point("notify.after_send")  # the at-least-once window: sent, not yet recorded
    await _settle(uow, delivery, sent=True, attempts=attempts, now=now)
    bound.info("delivery.sent", channel=delivery.channel, attempts=attempts)


async def _settle(
    uow: NotifyUnitOfWork, delivery: Delivery, *, sent: bool, attempts: int, now: datetime, error: str | None = None
) -> None:
    """Record the outcome and say so on baocao.notifications, in the same commit."""
    await uow.deliveries.settle(
        delivery.id,
        status="sent" if sent else "failed",
        attempts=attempts,
        last_error=error,
        sent_at=now if sent else None,
    )
    about = {name: getattr(delivery, name) for name in _ANNOUNCED}
    outcome = DeliveryV1(delivery_id=delivery.id, **about, attempts=attempts, at=now, reason=error)
    await uow.publish(NOTIFICATION_SENT if sent else NOTIFICATION_FAILED, outcome, province=delivery.province, at=now)
