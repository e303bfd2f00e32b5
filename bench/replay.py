"""Replay: consolidation's rebuild from 1,000,000 submission events, beside a bare read of the same topics.

What is measured:
- figure: `consolidation.rebuild.rebuild` into a fresh database (migrations, TRUNCATE, the replay with
  the live handlers and the inbox rule, the outbox marked sent), records read per second of its wall time;
- baseline: a bare aiokafka consumer (no group, every partition assigned, `getmany`) reading the same
  topics from offset 0 to their end, counting the records. It does not parse them: it is the rate at
  which this stack can take records off the broker at all. The cost of parsing alone is in the notes.

The events go to a fresh copy of consolidation's topics (a prefix of this run: `<prefix>baocao.catalog`, ...),
so other suites' records on the broker's real topics are not replayed. They are written as intake's outbox
relay writes them: the CloudEvent as JSON (`ensure_ascii=False`), key `<province>.<unit>`, the relay's headers
(`record_headers`: content-type and `baocao.type`), partition by the default (murmur2) partitioner. The catalogue
goes first: 63 provinces, their units and one plan each. Then per month: every unit's version 1; some approvals
of the last month's reports (and the system's revert when a unit amends after it); amendments (8% of reports to
version 2, a quarter of those to version 3); 1% of records delivered twice (a relay re-sending after a crash).
Producing is timed apart.

After the rebuild the database is checked against what was produced (rows, the sum of versions, inbox rows):
a fast rebuild into a wrong state is not a figure.

    uv run --frozen python -m bench --only replay [--quick]
    BAOCAO_BENCH_REPLAY_EVENTS=200000 ...      # another size
    BAOCAO_BENCH_REPLAY_PROFILE=/tmp/p.txt ... # pyinstrument's text profile of the rebuild
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import replace
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text

from baocao_shared.db import make_engine
from baocao_shared.events import topics as topic_names
from baocao_shared.messaging.batches import parse_record
from baocao_shared.messaging.history import read_history
from baocao_stack.kafka_admin import ensure_topics
from bench.harness import Figure, Infra, Stopwatch, say
from bench.replay_stream import PROVINCES, produce

SUITE = "replay"
BATCH = 2000  # max_poll_records of the bare read, as the replay's own batches
EVENTS = 1_000_000
QUICK_EVENTS = 60_000
UNITS = 400  # per province; quick: 40


async def bare_read(bootstrap: str, topics: list[str], *, batch: int) -> tuple[int, float]:
    """Every record of `topics` from offset 0 to the end they had at the start, counted, not parsed."""
    clock = Stopwatch()
    count = 0
    async for _, records in read_history(bootstrap, topics, max_records=batch):
        count += len(records)
    return count, clock.seconds


async def parse_cost(bootstrap: str, topic: str, *, sample: int) -> float:
    """Seconds per record that the replay's parse of a submission record takes (`parse_record`)."""
    from consolidation.consumers import HANDLERS

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    records = []
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        while len(records) < sample:
            found = await consumer.getmany(partition, timeout_ms=1000)
            if not found:
                break
            records += found[partition]
    finally:
        await consumer.stop()
    records = records[:sample]
    clock = Stopwatch()
    for record in records:
        parse_record(record, HANDLERS)
    return clock.seconds / max(1, len(records))


class CpuMeter:
    """CPU seconds spent by this process, the PostgreSQL server (its backends, gone ones included)
    and the Kafka broker between two readings: the work a run costs, whatever else shares the machine."""

    def __init__(self, infra: Infra) -> None:
        self.pg = psutil.Process(infra.pg_server.pid)
        self.kafka = psutil.Process(infra.broker.pid)
        self.backends = {p.pid for p in self.pg.children()}

    async def settled(self) -> dict[str, float]:
        """A reading once the backends of the connections closed meanwhile have exited and been
        counted into the server's own figure (waited for up to 5 s)."""
        for _ in range(100):  # polls the process table, 5 s at most
            if not {p.pid for p in self.pg.children()} - self.backends:
                break
            await asyncio.sleep(0.05)
        return self.read()

    @staticmethod
    def _tree(process: psutil.Process) -> float:
        own = process.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total

    def read(self) -> dict[str, float]:
        return {"python": time.process_time(), "postgres": self._tree(self.pg), "kafka": self._tree(self.kafka)}

    @staticmethod
    def per_thousand(before: dict[str, float], after: dict[str, float], records: int) -> dict[str, float]:
        return {k: round((after[k] - before[k]) * 1000 / max(1, records), 4) for k in before}


async def _rebuild(infra: Infra, names: dict[str, str]):
    from consolidation.config import Settings
    from consolidation.consumers import TOPICS
    from consolidation.rebuild import rebuild

    url = await infra.create_database("replay")
    settings = Settings(database_url=url, kafka_bootstrap_servers=infra.kafka.bootstrap, consumer_group_prefix="bench-")
    profile_to = os.environ.get("BAOCAO_BENCH_REPLAY_PROFILE")
    profiler = None
    if profile_to:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")
        profiler.start()
    clock = Stopwatch()
    watch = asyncio.create_task(_progress(url, clock))
    try:
        outcome = await rebuild(settings, into=url, topics=[names[t] for t in TOPICS])
    finally:
        watch.cancel()
    seconds = clock.seconds
    if profiler is not None:
        profiler.stop()
        report = profiler.output_text(unicode=True, color=False, show_all=False)
        await asyncio.to_thread(Path(profile_to).write_text, report)
        say(f"profile of the rebuild in {profile_to}")
    return url, outcome, seconds


async def _progress(url: str, clock: Stopwatch, every_s: float = 20.0) -> None:
    """A line every `every_s` with the inbox rows the rebuild has written (PostgreSQL's own counter)."""
    engine = make_engine(url, pool_size=1)
    try:
        while True:
            await asyncio.sleep(every_s)
            async with engine.connect() as conn:
                rows = await conn.scalar(text("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'inbox'"))
            say(f"  rebuild: {rows or 0:,} events in {clock.seconds:.0f}s")
    finally:
        await engine.dispose()


async def _state(url: str) -> dict:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM unit_reports) AS reports,"
                        " (SELECT coalesce(sum(version), 0) FROM unit_reports) AS versions,"
                        " (SELECT count(*) FROM inbox) AS inbox, (SELECT count(*) FROM units) AS units,"
                        " (SELECT count(*) FROM reports) AS workflow"
                    )
                )
            ).one()
        return dict(row._mapping)
    finally:
        await engine.dispose()


async def run(infra: Infra, *, quick: bool) -> list[Figure]:
    from consolidation.consumers import TOPICS

    events = int(os.environ.get("BAOCAO_BENCH_REPLAY_EVENTS", QUICK_EVENTS if quick else EVENTS))
    units = 40 if quick else UNITS
    partitions = int(os.environ.get("BAOCAO_BENCH_PARTITIONS", "3"))
    prefix = f"bench-replay-{uuid.uuid4().hex[:6]}."
    names = {t: prefix + t for t in TOPICS}
    specs = [replace(spec, name=names[spec.name]) for spec in topic_names.TOPICS if spec.name in names]
    await ensure_topics(infra.kafka.bootstrap, partitions=partitions, topics=specs)
    producer = AIOKafkaProducer(
        bootstrap_servers=infra.kafka.bootstrap, acks="all", enable_idempotence=True, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        say(f"producing {events:,} submission events ({PROVINCES} provinces x {units} units) under {prefix}*")
        stream = await produce(producer, names, partitions, events=events, units=units)
    finally:
        await producer.stop()
    say(
        f"produced {stream.total:,} records ({stream.bytes / 2**20:,.0f} MiB) in {stream.seconds:.0f}s: "
        f"{stream.records}"
    )
    topics = [names[t] for t in TOPICS]
    cpu = CpuMeter(infra)
    before = cpu.read()
    bare_records, bare_seconds = await bare_read(infra.kafka.bootstrap, topics, batch=BATCH)
    bare_cpu = CpuMeter.per_thousand(before, await cpu.settled(), bare_records)
    say(f"bare read: {bare_records:,} records in {bare_seconds:.1f}s")
    per_parse = await parse_cost(infra.kafka.bootstrap, names[topic_names.SUBMISSIONS], sample=20_000)
    say(f"rebuilding into a fresh database ({stream.total:,} records)")
    before = cpu.read()
    url, outcome, seconds = await _rebuild(infra, names)
    rebuild_cpu = CpuMeter.per_thousand(before, await cpu.settled(), outcome.records)
    say(
        f"rebuild: {outcome.records:,} records in {seconds:.1f}s, {outcome.applied:,} applied, {outcome.skipped} poison"
    )
    state = await _state(url)
    expected = {
        "reports": stream.unit_reports,
        "versions": stream.versions,
        "inbox": stream.events,
        "units": PROVINCES * units,
        "workflow": len(stream.approved),
    }
    if bare_records != stream.total or outcome.records != stream.total or state != expected:
        raise AssertionError(
            f"replay read {outcome.records} / bare {bare_records} of {stream.total} records; "
            f"rebuilt state {state}, expected {expected}"
        )
    rate, bare_rate = outcome.records / seconds, bare_records / bare_seconds
    notes = {
        "measures": "consolidation.rebuild.rebuild into a fresh database (migrations, TRUNCATE, replay, outbox marked"
        " sent), records over its wall time; baseline: a bare aiokafka consumer (no group, assign all, getmany)"
        " reading the same topics to the end, counting records without parsing them",
        "records": stream.total,
        "records_per_topic": stream.records,
        "submission_records": stream.submissions,
        "amendments": stream.amendments,
        "duplicate_records": stream.duplicates,
        "distinct_events": stream.events,
        "applied": outcome.applied,
        "skipped_as_poison": outcome.skipped,
        "rebuild_seconds": round(seconds, 2),
        "replay_seconds": round(outcome.seconds, 2),
        "bare_seconds": round(bare_seconds, 2),
        "cpu_seconds_per_1000_records": {"rebuild": rebuild_cpu, "bare_read": bare_cpu},
        "parse_us_per_submission": round(per_parse * 1e6, 1),
        "parse_only_rate": round(1 / per_parse) if per_parse else None,
        "fetch_batch": BATCH,
        "produce_seconds": round(stream.seconds, 1),
        "megabytes": round(stream.bytes / 2**20, 1),
        "partitions_per_topic": partitions,
        "rebuilt_state": state,
    }
    return [
        Figure(
            suite=SUITE,
            name=f"rebuild from {stream.total:,} records",
            value=rate,
            unit="events/s",
            baseline=bare_rate,
            baseline_name="bare aiokafka read",
            target=">= 25% of the bare read, aim 50% (issue 19)",
            met=rate >= 0.25 * bare_rate,
            notes=notes,
        )
    ]
