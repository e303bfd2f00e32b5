"""A pooled connection the server has ended (a PostgreSQL restart ends them all) is not handed out again:
the next transaction gets a live connection and succeeds, as with pool_pre_ping, without asking the server."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from baocao_shared.db import asyncpg_dsn, make_engine
from baocao_testing.fixtures import create_database
from baocao_testing.kit import wait_until

pytestmark = pytest.mark.integration


async def test_a_transaction_after_the_server_ended_the_pooled_connection_succeeds(postgres):
    url = await create_database(postgres, "liveness")
    engine = make_engine(url, pool_size=1)
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with engine.connect() as conn:
            pooled = await conn.scalar(text("SELECT pg_backend_pid()"))
        # Back in the pool, idle; the server ends it as a restart (or an operator's terminate) does.
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pooled)

        async def ended():
            return not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pooled)

        await wait_until(ended, timeout=10, interval=0.05, what="the server to end the pooled connection")
        async with engine.begin() as conn:
            now_on = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert now_on != pooled
    finally:
        await admin.close()
        await engine.dispose()
