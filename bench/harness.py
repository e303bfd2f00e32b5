"""What every benchmark shares: the servers of one run, figures with their same-run baselines, percentiles.

A suite is a module of this package with `async def run(infra: Infra, *, quick: bool) -> list[Figure]`.
Absolute times on a shared 2-core machine vary from run to run, so each figure carries a baseline
measured in the same run on the same servers (the best the stack allows for that work) and the ratio
of the two; a target is stated on the figure or on the ratio.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from baocao_stack.kafka import KafkaBroker, start_kafka
from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready
from baocao_stack.kafka_jars import ensure_kafka_jars
from baocao_stack.ports import free_port, free_ports
from baocao_stack.postgres import PostgresServer, start_postgres, wait_postgres_ready
from baocao_testing.fixtures import KafkaHandle, PostgresHandle, stack_home

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"

# Production-like durability for the benchmarks (the test suite runs with fsync off): both a figure
# and its baseline pay the same commit cost.
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "max_connections": "300", "shared_buffers": "256MB"}
KAFKA_HEAP = "512m"


@dataclass
class Figure:
    """One measured figure beside its same-run baseline.

    `higher_is_better` says which way the ratio should lean: for a rate the ratio is value/baseline
    (1.0 = as fast as the baseline), for a time or a size it is value/baseline too (1.0 = as slow).
    `target` is the issue's goal in words; `met` is None when no target applies to this figure."""

    suite: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    higher_is_better: bool = True
    notes: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.value is None or math.isnan(self.value):
            return None
        return self.value / self.baseline

    def to_json(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[min(998, max(0, round(q * 10) - 1))]


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def say(line: str) -> None:
    """Progress on long work, flushed at once (make bench runs for minutes)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {line}", flush=True)


@dataclass
class Infra:
    """The servers of one benchmark run: a PostgreSQL and a Kafka broker of its own, on free loopback ports."""

    home: Path  # this run's folder (logs, data); removed at the end unless kept
    stack_home: Path  # BAOCAO_HOME: the Kafka jars' cache
    postgres: PostgresHandle
    kafka: KafkaHandle
    pg_server: PostgresServer
    broker: KafkaBroker

    async def create_database(self, prefix: str) -> str:
        """A new empty database; returns its SQLAlchemy (asyncpg) URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.asyncpg_url("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.postgres.url_for(name)

    def asyncpg_url(self, database: str) -> str:
        return make_url(self.postgres.url_for(database)).set(drivername="postgresql").render_as_string(False)


async def start_infra(*, keep: bool = False) -> Infra:
    home_root = stack_home()
    ensure_kafka_jars(home_root, say=say)
    home = Path(tempfile.mkdtemp(prefix="bench-", dir=home_root if home_root.exists() else None))
    say(f"servers of this run in {home}")
    port, controller_port = free_ports(2)
    broker = start_kafka(
        home_root,
        port=port,
        controller_port=controller_port,
        data_dir=home / "kafka",
        log_file=home / "kafka.log",
        heap=KAFKA_HEAP,
    )
    server = start_postgres(
        data_dir=home / "pg", port=free_port(), log_file=home / "postgres.log", settings=PG_SETTINGS
    )
    await asyncio.gather(wait_kafka_ready(broker, timeout=120), wait_postgres_ready(server, timeout=60))
    await ensure_topics(broker.bootstrap, partitions=int(os.environ.get("BAOCAO_BENCH_PARTITIONS", "3")))
    say(f"Kafka at {broker.bootstrap}, PostgreSQL on port {server.port}")
    return Infra(
        home=home,
        stack_home=home_root,
        postgres=PostgresHandle(server.url("postgres"), server),
        kafka=KafkaHandle(broker.bootstrap, broker),
        pg_server=server,
        broker=broker,
    )


def stop_infra(infra: Infra, *, keep: bool = False) -> None:
    infra.broker.stop()
    infra.pg_server.stop()
    if not keep:
        shutil.rmtree(infra.home, ignore_errors=True)
