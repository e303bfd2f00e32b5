"""Database plumbing shared by the services: engines, sessions and Alembic at start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

# Stable constraint names keep Alembic autogenerate diffs readable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATION_LOCK_ID = 0x6261_6F63  # "baoc": any constant; serialises concurrent start-ups of one service


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    """Up to pool_size + max_overflow connections; pool_size of them are kept open once opened, the overflow
    ones are closed as soon as they are given back."""
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """Checkout: a pooled connection the server has closed (PostgreSQL restarted, or ended the session) is
    replaced by a new one before use. asyncpg knows from the socket, so this costs no round trip; the
    pool_pre_ping it replaces cost three on every checkout (BEGIN, an empty query, ROLLBACK), several per
    request. A connection that dies while in use still fails that use, and then the pool is renewed."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(script_location: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade_database(script_location: Path, url: str) -> None:
    """Apply every migration up to head; instances starting together take turns."""
    await asyncio.to_thread(_upgrade_blocking, script_location, url)


def _upgrade_blocking(script_location: Path, url: str) -> None:
    command.upgrade(alembic_config(script_location, url), "head")


def run_migrations_online(target_metadata: MetaData, url: str) -> None:
    """Body of every service's migrations/env.py: run Alembic on an async engine, under a lock."""
    from alembic import context

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            await conn.commit()
            try:
                await conn.run_sync(_configure_and_run, context, target_metadata)
                await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                await conn.commit()
        await engine.dispose()

    asyncio.run(run())


def _configure_and_run(connection: Connection, context, target_metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def asyncpg_dsn(url: str) -> str:
    """The plain libpq-style DSN asyncpg.connect() takes, from a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_append_only(op, table: str) -> None:
    """In a migration: the database itself refuses to change or erase the rows of `table` (an audit trail)."""
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )
