"""Wait until the pipeline is quiet: every outbox sent and every consumer group at the end of what it reads.

The demo's publications must see every unit's report the demo history just sent: intake's outbox to
baocao.submissions, deadlines' timeliness on baocao.deadlines, then consolidation's projection of both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from .settings import StackSettings


async def unsent(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
    finally:
        await connection.close()


async def lag(bootstrap: str, groups: Sequence[str]) -> int:
    """Records the groups have not committed yet, over the partitions each group has committed on."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        total = 0
        for group in groups:
            committed = {tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()}
            if not committed:
                return 1  # the group has not joined yet: not quiet
            ends = await consumer.end_offsets(list(committed))
            total += sum(max(0, ends[tp] - offset) for tp, offset in committed.items() if offset >= 0)
        return total
    finally:
        await consumer.stop()
        await admin.close()


async def backlog(settings: StackSettings, services: Sequence[str], groups: Sequence[str]) -> int:
    outboxes = [await unsent(settings.database_url(name, driver="postgresql")) for name in services]
    return sum(outboxes) + await lag(settings.kafka_bootstrap, groups)


async def wait_quiet(
    settings: StackSettings, *, services: Sequence[str], groups: Sequence[str], timeout: float = 180
) -> bool:
    """True once the outboxes of `services` are sent and `groups` have consumed everything, twice in a row a
    second apart (a consumer's handling ends before it commits); False if that did not happen in `timeout`."""
    quiet_before = False

    async def settled() -> bool:
        nonlocal quiet_before
        quiet = await backlog(settings, services, groups) == 0
        done, quiet_before = quiet and quiet_before, quiet
        return done

    not_yet = retry_if_result(lambda done: not done) | retry_if_exception_type((OSError, KafkaError))
    retrying = AsyncRetrying(retry=not_yet, wait=wait_fixed(1), stop=stop_after_delay(timeout))
    try:
        return await retrying(settled)
    except RetryError:
        return False


def wait_quiet_sync(settings: StackSettings, **kwargs) -> bool:
    return asyncio.run(wait_quiet(settings, **kwargs))
