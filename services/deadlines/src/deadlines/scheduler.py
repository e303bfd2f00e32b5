"""The scheduler loop: one tick every `scheduler_tick_s` real seconds, reading the service's clock."""

from __future__ import annotations

import asyncio

import structlog

from baocao_shared.runtime import ServiceRuntime
from deadlines.handlers.scheduler import tick

log = structlog.get_logger(__name__)


async def run_scheduler(runtime: ServiceRuntime) -> None:
    interval = runtime.settings.scheduler_tick_s
    while True:
        fired = await tick(runtime.sessionmaker, now=runtime.clock.now())
        if fired:
            log.info("scheduler.fired", rows=fired)
        await asyncio.sleep(interval)
