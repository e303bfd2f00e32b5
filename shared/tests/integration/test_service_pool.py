"""A service keeps the database connections a burst of requests opened: the next burst opens none (each new
connection is a PostgreSQL process and a round of asyncpg set-up), and it never holds more than its pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from baocao_shared.db import asyncpg_dsn, new_metadata
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.settings import ServiceSettings
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).with_name("ops_migrations")


async def sessions_begun(monitor: asyncpg.Connection) -> int:
    """Sessions PostgreSQL has begun on this database (its cumulative statistics, read afresh)."""
    await monitor.execute("SELECT pg_stat_clear_snapshot()")
    return await monitor.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")


async def test_a_second_burst_reuses_the_connections_of_the_first(kafka, postgres, group_prefix):
    url = await create_database(postgres, "pool")
    settings = ServiceSettings(
        service_name="pooltest",
        env="test",
        http_port=free_port(),
        database_url=url,
        kafka_bootstrap_servers=kafka.bootstrap,
        consumer_group_prefix=group_prefix,
        db_pool_size=12,
    )
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
