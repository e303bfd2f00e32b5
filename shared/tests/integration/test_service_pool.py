"""A service keeps the database connections a burst of requests opened: the next burst opens none (each new
connection is a PostgreSQL process and a round of asyncpg set-up), and it never holds more than its pool. Its outbox
relay does not queue for that pool."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from baocao_shared.db import asyncpg_dsn, make_engine, new_metadata
from baocao_shared.events import make_event
from baocao_shared.events.submissions import SUBMISSION_RECEIVED
from baocao_shared.messaging.outbox import enqueue
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.settings import ServiceSettings
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import new_topic, read_topic, wait_until
from baocao_testing.samples import a_submission

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).with_name("ops_migrations")


def service_settings(kafka, url: str, group_prefix: str, **extra) -> ServiceSettings:
    """A service of these tests on its own database and the session's broker."""
    return ServiceSettings(
        service_name="pooltest",
        env="test",
        http_port=free_port(),
        database_url=url,
        kafka_bootstrap_servers=kafka.bootstrap,
        consumer_group_prefix=group_prefix,
        **extra,
    )


async def sessions_begun(monitor: asyncpg.Connection) -> int:
    """Sessions PostgreSQL has begun on this database (its cumulative statistics, read afresh)."""
    await monitor.execute("SELECT pg_stat_clear_snapshot()")
    return await monitor.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")


async def test_a_second_burst_reuses_the_connections_of_the_first(kafka, postgres, group_prefix):
    url = await create_database(postgres, "pool")
    settings = service_settings(kafka, url, group_prefix, db_pool_size=12)
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=new_metadata())
    await runtime.start()
    monitor = await asyncpg.connect(asyncpg_dsn(url))
    try:

        async def request() -> int:
            async with runtime.sessionmaker() as session, session.begin():
                return await session.scalar(text("SELECT pg_backend_pid() FROM pg_sleep(0.2)"))

        first = await asyncio.gather(*(request() for _ in range(20)))
        before = await sessions_begun(monitor)
        second = await asyncio.gather(*(request() for _ in range(20)))
        assert len(set(first)) <= 12 and len(set(second)) <= 12, "never more connections than the pool holds"
        # Not "the same pids as the first burst": the service's own relay may hold one of the pool's
        # connections during a burst and free it for the next. No new session is the point.
        assert await sessions_begun(monitor) == before, "the second burst opened new database sessions"
    finally:
        await monitor.close()
        await runtime.stop()


async def test_the_relay_publishes_while_requests_hold_every_pooled_connection(kafka, postgres, group_prefix):
    """Under load every pooled connection is a request's and more requests wait for one: the relay does not wait
    in that queue (it has a connection of its own), so what commits is published without waiting for them."""
    url = await create_database(postgres, "pool")
    topic = await new_topic(kafka.bootstrap, prefix="relaypool")
    settings = service_settings(kafka, url, group_prefix, db_pool_size=2, outbox_poll_interval_s=0.2)
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=new_metadata())
    await runtime.start()
    writer = make_engine(url)
    held = [runtime.sessionmaker() for _ in range(2)]
    try:
        for session in held:  # the whole pool, in open transactions, as requests under load hold it
            await session.begin()
            await session.execute(text("SELECT 1"))
        event = make_event(SUBMISSION_RECEIVED, a_submission(unit="U1"), source="/baocao/test", province="30")
        async with writer.begin() as conn:
            await enqueue(conn, runtime.outbox, topic, [event])

        async def published():
            return [r for r in await read_topic(kafka.bootstrap, topic) if str(event[0].id).encode() in r.value]

        await wait_until(published, timeout=20, what="the event on Kafka while the pool was taken")
    finally:
        for session in held:
            await session.close()
        await writer.dispose()
        await runtime.stop()


async def test_the_relay_publishes_while_the_request_loop_does_not_yield(kafka, postgres, group_prefix):
    """A request loop busy to the point of never yielding (a saturated service, exaggerated) does not hold the
    relay: it runs on a loop of its own, so an event committed meanwhile still reaches Kafka."""
    url = await create_database(postgres, "pool")
    topic = await new_topic(kafka.bootstrap, prefix="relayloop")
    settings = service_settings(kafka, url, group_prefix, outbox_poll_interval_s=0.2)
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=new_metadata())
    await runtime.start()

    async def commit_and_find(unit: str, timeout: float) -> bool:
        event = make_event(SUBMISSION_RECEIVED, a_submission(unit=unit), source="/baocao/test", province="30")
        writer = make_engine(url)
        try:
            async with writer.begin() as conn:
                await enqueue(conn, runtime.outbox, topic, [event])
        finally:
            await writer.dispose()

        async def published():
            return [r for r in await read_topic(kafka.bootstrap, topic) if str(event[0].id).encode() in r.value]

        try:
            await wait_until(published, timeout=timeout, what=f"{unit}'s event on Kafka")
            return True
        except AssertionError:
            return False

    try:
        assert await commit_and_find("U1", 60), "the relay publishes at all"
        # The service's loop blocked in this call; the commit and the reading happen on a loop of another thread.
        seen = _blocking(lambda: asyncio.run(commit_and_find("U2", 20)))
        assert seen, "the event waited for the service's loop"
    finally:
        await runtime.stop()


def _blocking(call):
    """Run `call` in another thread and wait for it here, without yielding to this thread's event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
