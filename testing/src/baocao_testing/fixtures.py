"""pytest fixtures: real Kafka and PostgreSQL for the suite, started with the same launcher as `make up`.

- `KAFKA_BOOTSTRAP_SERVERS` and `DATABASE_URL` set: use those servers (DATABASE_URL names a
  database the tests may use to create one database per test).
- `BAOCAO_TEST_INFRA=containers` and a Docker engine: testcontainers.
- Otherwise: a KRaft broker and an embedded PostgreSQL as processes on free loopback ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[3]


def stack_home() -> Path:
    return Path(os.environ.get("BAOCAO_HOME", REPO / ".local")).resolve()


@dataclass
class KafkaHandle:
    bootstrap: str
    broker: object | None  # baocao_stack.kafka.KafkaBroker when we started it


@dataclass
class PostgresHandle:
    admin_url: str  # SQLAlchemy URL of a database we may CREATE DATABASE from
    server: object | None  # baocao_stack.postgres.PostgresServer when we started it

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)


def _use_containers() -> bool:
    return os.environ.get("BAOCAO_TEST_INFRA") == "containers"


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaHandle]:
    from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        asyncio.run(wait_kafka_ready(external, timeout=60))
        asyncio.run(ensure_topics(external, partitions=3))
        yield KafkaHandle(external, None)
        return
    if _use_containers():
        with container_kafka() as handle:
            yield handle
        return
    with running_kafka(tmp_path_factory.mktemp("kafka")) as handle:
        yield handle


@pytest.fixture(scope="module")
def own_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaHandle]:
    """A broker for one test module alone, its topics holding only what that module publishes: for a rebuild from
    the topics compared row by row with the live state (the session's broker holds every other test's records)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("needs a broker of its own; KAFKA_BOOTSTRAP_SERVERS names a shared one")
    with container_kafka() if _use_containers() else running_kafka(tmp_path_factory.mktemp("own-kafka")) as handle:
        yield handle


@contextlib.contextmanager
def container_kafka() -> Iterator[KafkaHandle]:
    """A Kafka broker in a container (BAOCAO_TEST_INFRA=containers, where Docker runs), with the topics created."""
    from testcontainers.kafka import KafkaContainer

    from baocao_stack.kafka_admin import ensure_topics

    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
        bootstrap = container.get_bootstrap_server()
        asyncio.run(ensure_topics(bootstrap, partitions=3))
        yield KafkaHandle(bootstrap, None)


@contextlib.contextmanager
def running_kafka(root: Path) -> Iterator[KafkaHandle]:
    """A Kafka broker (KRaft, one node) on free loopback ports, its data under `root`, with the topics created."""
    from baocao_stack.kafka import start_kafka
    from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready
    from baocao_stack.kafka_jars import ensure_kafka_jars
    from baocao_stack.ports import free_ports

    home = stack_home()
    ensure_kafka_jars(home)
    port, controller_port = free_ports(2)  # distinct: two free_port() calls may return the same one
    broker = start_kafka(
        home,
        port=port,
        controller_port=controller_port,
        data_dir=root / "data",
        log_file=root / "kafka.log",
    )
    try:
        asyncio.run(wait_kafka_ready(broker, timeout=120))  # the broker: a dead process fails at once
        asyncio.run(ensure_topics(broker.bootstrap, partitions=3))
        yield KafkaHandle(broker.bootstrap, broker)
    finally:
        # SIGKILL: its data goes with the session. A controlled shutdown only closed and checkpointed every partition
        # the session had created (a dead-letter topic per consumer group of each test app, about a thousand
        # partitions by the end of the suite): it outlasted stop()'s 20 s bound, to end in a SIGKILL all the same.
        broker.kill()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresHandle]:
    external = os.environ.get("DATABASE_URL")
    if external:
        url = make_url(external).set(drivername="postgresql+asyncpg")
        yield PostgresHandle(url.render_as_string(hide_password=False), None)
        return
    if _use_containers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver="asyncpg") as container:
            yield PostgresHandle(container.get_connection_url(), None)
        return
    with running_postgres("baocao-test-pg-") as handle:
        yield handle


@contextlib.contextmanager
def running_postgres(prefix: str) -> Iterator[PostgresHandle]:
    """An embedded PostgreSQL on a free loopback port, its data in a new folder under /tmp, removed after.

    Outside pytest's temporary root: any pytest session starting meanwhile makes that root 0700 again, and
    PostgreSQL (run as embedded_postgres when we are root) could then not reach its data, nor restart on it."""
    from baocao_stack.ports import free_port
    from baocao_stack.postgres import start_postgres, wait_postgres_ready

    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = start_postgres(data_dir=root / "pg", port=free_port(), log_file=root / "postgres.log")
    try:
        asyncio.run(wait_postgres_ready(server, timeout=60))
        yield PostgresHandle(server.url("postgres"), server)
    finally:
        server.stop()
        remove_in_background(root)


_removals: list[subprocess.Popen] = []


def remove_in_background(path: Path) -> None:
    """Delete a folder without waiting: a session's PostgreSQL data holds a few hundred databases (~90,000 files,
    7 s to delete), which nothing after the session needs."""
    _removals.append(
        subprocess.Popen(  # kept: not reaped, it would warn that it still runs
            ["rm", "-rf", "--", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )


@pytest.fixture
async def fresh_database(postgres: PostgresHandle) -> AsyncIterator[str]:
    """A new empty database for one test; returns its SQLAlchemy URL."""
    url = await create_database(postgres)
    yield url


SERVICES = ("intake", "deadlines", "consolidation", "notify")
_templates: set[tuple[str, str]] = set()  # (server, template database) made in this process


async def create_database(postgres: PostgresHandle, prefix: str = "t", *, migrated: bool | None = None) -> str:
    """A new database `<prefix>_<random>`; returns its SQLAlchemy URL.

    Named after a service (prefix "intake", "deadlines", "consolidation" or "notify"), it holds that service's
    schema at the head of its migrations: a copy (CREATE DATABASE ... TEMPLATE) of a database migrated once per
    session and migrations folder, so the app's own upgrade at start finds nothing to do (migrating each test's
    database cost as much as the rest of an app's start). `migrated=False` gives an empty one all the same, for
    what must migrate it itself; any other prefix gives an empty one."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    template = await _migrated_template(postgres, prefix) if migrated is not False and prefix in SERVICES else None
    async with _admin(postgres) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return postgres.url_for(name)


@contextlib.asynccontextmanager
async def _admin(postgres: PostgresHandle) -> AsyncIterator[asyncpg.Connection]:
    admin = make_url(postgres.admin_url).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        yield conn
    finally:
        await conn.close()


async def _migrated_template(postgres: PostgresHandle, service: str) -> str:
    """The name of a database holding `service`'s migrations at head, made on first use: migrated under a
    name of its own, then renamed (a server another session shares sees it whole or not at all). Its name
    carries a digest of the migrations and of the shared steps they call (baocao_shared.migrations and what it
    builds on), so a changed migration makes a new one, also on a server that outlives the session."""
    from baocao_shared.db import upgrade_database

    migrations = importlib.import_module(f"{service}.main").MIGRATIONS
    shared = REPO / "shared" / "src" / "baocao_shared"
    steps = [shared / "migrations.py", shared / "db.py", shared / "audit.py", shared / "messaging" / "tables.py"]
    digest = hashlib.sha256()
    for path in [*sorted(migrations.rglob("*.py")), *steps]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    name = f"tmpl_{service}_{digest.hexdigest()[:12]}"
    if (postgres.admin_url, name) in _templates:
        return name
    async with _admin(postgres) as conn:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            building = f"{name}_{uuid.uuid4().hex[:6]}"
            await conn.execute(f'CREATE DATABASE "{building}"')
            await upgrade_database(migrations, postgres.url_for(building))
            try:
                await _until_unused(conn, f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            except asyncpg.DuplicateDatabaseError:  # another session made it meanwhile
                await _until_unused(conn, f'DROP DATABASE "{building}"')
    _templates.add((postgres.admin_url, name))
    return name


async def _until_unused(conn: asyncpg.Connection, statement: str, timeout: float = 10) -> None:
    """Run `statement` on a database the migration has just disconnected from: its server process may still be
    leaving (ObjectInUseError), briefly."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await conn.execute(statement)
            return
        except asyncpg.ObjectInUseError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.fixture
async def group_prefix(kafka: KafkaHandle) -> str:
    """`consumer_group_prefix` for this test's apps: consumer groups of its own, starting at the end of their
    topics as the test begins (see kit.fresh_group_prefix): they read what the test publishes, not what the
    session's earlier tests did. A module-scoped app calls `fresh_group_prefix(kafka.bootstrap)` itself."""
    from baocao_testing.kit import fresh_group_prefix

    return await fresh_group_prefix(kafka.bootstrap)
