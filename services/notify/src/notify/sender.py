"""The sender loop: every `sender_tick_s` real seconds, send the deliveries whose time has come."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime

from baocao_shared.runtime import ServiceRuntime
from notify.adapters.channels import channels_for
from notify.adapters.uow import NotifyUnitOfWork
from notify.handlers.sending import RetryPolicy, send_due


async def run_sender(runtime: ServiceRuntime) -> None:
    s = runtime.settings
    channels = channels_for(s)
    policy = RetryPolicy(max_attempts=s.delivery_max_attempts, initial_s=s.retry_initial_s, max_s=s.retry_max_s)
    batch, concurrency = s.sender_batch, s.sender_concurrency
    fresh = functools.partial(NotifyUnitOfWork.begin, runtime.sessionmaker)  # each delivery in its own transaction
    while True:
        # Deliveries live on the wall clock, not the simulated one: an SMTP outage lasts real seconds,
        # and a full batch means more may be waiting, so look again at once.
        while (
            await send_due(fresh, channels, now=datetime.now(UTC), policy=policy, batch=batch, concurrency=concurrency)
            == batch
        ):
            pass
        await asyncio.sleep(s.sender_tick_s)
