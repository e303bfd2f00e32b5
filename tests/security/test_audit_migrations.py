"""The audit trails of intake and consolidation are append-only in the database itself.

Each service's own database user (the one in its DATABASE_URL, owner of the tables) tries UPDATE, DELETE
and TRUNCATE on audit_log after the service's migrations: each is refused with SQLSTATE 42501 and a message
naming the statement, and the row is still there. The last migration downgrades to the terse message of
0002 (the trail stays protected) and upgrades again.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from baocao_shared.db import alembic_config, upgrade_database
from baocao_testing.fixtures import create_database
from consolidation.main import MIGRATIONS as CONSOLIDATION
from intake.main import MIGRATIONS as INTAKE

pytestmark = pytest.mark.integration

# (migrations, the revision that made the refusal clear)
SERVICES = {"intake": (INTAKE, "0004"), "consolidation": (CONSOLIDATION, "0005")}


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


async def _refusals(url: str) -> dict[str, asyncpg.PostgresError]:
    """Insert one audit row, then try to change and erase it; returns the error of each attempt."""
    conn = await _connect(url)
    try:
        await conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject, details) "
            "VALUES (now(), 'admin', 'test.recorded', 'x', '{}'::jsonb)"
        )
        errors = {}
        for statement, sql in {
            "UPDATE": "UPDATE audit_log SET actor = 'someone-else'",
            "DELETE": "DELETE FROM audit_log",
            "TRUNCATE": "TRUNCATE audit_log",
        }.items():
            with pytest.raises(asyncpg.PostgresError) as refused:
                await conn.execute(sql)
            errors[statement] = refused.value
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE actor = 'admin'") >= 1
        return errors
    finally:
        await conn.close()


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_audit_log_refuses_update_delete_truncate_with_a_clear_message(postgres, service: str) -> None:
    migrations, revision = SERVICES[service]
    url = await create_database(postgres, prefix=f"audit_{service}")
    await upgrade_database(migrations, url)

    for statement, error in (await _refusals(url)).items():
        assert error.sqlstate == "42501", (statement, error)
        assert f"audit_log is append-only: {statement} refused" in str(error)
        assert "new audit row" in (error.hint or "")

    # down one step: still refused, with the old terse message; then up again.
    config = alembic_config(migrations, url)
    previous = f"{int(revision) - 1:04d}"
    await asyncio.to_thread(command.downgrade, config, previous)
    for error in (await _refusals(url)).values():
        assert str(error) == "audit_log is append-only"
    await upgrade_database(migrations, url)
    assert {e.sqlstate for e in (await _refusals(url)).values()} == {"42501"}
