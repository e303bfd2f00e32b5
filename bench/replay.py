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
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text

from baocao_shared.db import make_engine
from baocao_shared.events import CloudEvent, make_event, parse_data
from baocao_shared.events import topics as topic_names
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_REVERTED, ReportStatusV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.messaging.batches import parse_record
from baocao_shared.messaging.headers import record_headers
from baocao_shared.messaging.history import read_history
from baocao_stack.kafka_admin import ensure_topics
from bench.harness import REPO, Figure, Infra, Stopwatch, say

SUITE = "replay"
BATCH = 2000  # max_poll_records of the bare read, as the replay's own batches
EVENTS = 1_000_000
QUICK_EVENTS = 60_000
PROVINCES = 63
UNITS = 400  # per province; quick: 40
AMENDED = 0.08  # share of a month's reports amended to version 2
AMENDED_TWICE = 0.25  # share of those amended again, to version 3
DUPLICATED = 0.01  # share of submission records the relay sends twice
INTAKE = "/baocao/intake"
CONSOLIDATION = "/baocao/consolidation"
NARRATIVES = [
    {},
    {"T1": "Tổ chức hội nghị quán triệt Chỉ thị 44 cho cán bộ, đảng viên."},
    {"T2": "Tuyên truyền Ngày Nhân quyền thế giới 10/12 trên cổng thông tin.", "difficulties": "Thiếu kinh phí."},
    {"T5": "Viết bài phản bác thông tin sai lệch.", "next_month": "Tiếp tục tuyên truyền."},
]


@dataclass
class Stream:
    """What was produced, and what the rebuilt database must hold afterwards."""

    records: dict[str, int] = field(default_factory=dict)  # per logical topic
    submissions: int = 0  # submission records, re-sends included
    duplicates: int = 0  # records sent a second time (same event)
    amendments: int = 0
    events: int = 0  # distinct events of a type consolidation handles: its inbox rows after the rebuild
    unit_reports: int = 0  # (province, plan, period, unit) with a submission: rows of unit_reports
    versions: int = 0  # the sum of their highest versions
    approved: set = field(default_factory=set)  # provinces whose report of a month was approved
    bytes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.records.values())


def _iso(at: datetime) -> str:
    """As pydantic writes an aware UTC datetime in JSON mode."""
    return at.replace(tzinfo=None).isoformat() + "Z"


# A submission record as json.dumps(event.model_dump(mode="json"), ensure_ascii=False) writes it (the
# relay), field for field; `_check_shape` compares the first records with the real thing byte for byte.
SUBMISSION = (
    '{{"specversion": "1.0", "id": "{id}", "source": "/baocao/intake", "type": "{type}", "time": "{at}", '
    '"subject": "{province}/{unit}/{period}", "datacontenttype": "application/json", "data": {{'
    '"submission_id": "{sid}", "province": "{province}", "unit": "{unit}", "plan_id": "{plan}", '
    '"period": "{period}", "version": {version}, "values": {values}, "narratives": {narratives}, '
    '"received_at": "{at}", "first_received_at": "{first}", "submitted_by": "{by}", "imported": false, '
    '"after_close": false, "channel": null, "entered_by": null}}, '
    '"province": "{province}", "correlationid": null}}'
)


def _encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")  # as OutboxRelay.relay_batch


def _check_shape(value: bytes) -> None:
    """The hand-built record equals what make_event + the relay make of the same event, byte for byte."""
    event = CloudEvent.from_bytes(value)
    again, _ = make_event(
        {e.type: e for e in (SUBMISSION_RECEIVED, SUBMISSION_AMENDED)}[event.type],
        parse_data(event),
        source=event.source,
        province=event.province,
        time=event.time,
    )
    expected = _encode(again.model_copy(update={"id": event.id}).model_dump(mode="json"))
    if expected != value:
        raise AssertionError(f"the bench's submission record differs from intake's:\n{value!r}\n{expected!r}")


class Writer:
    """Batched produce: records go into per-partition batches (no await per record), sent when full;
    the partition is the default partitioner's (murmur2 of the key), as for the relay's sends."""

    def __init__(self, producer: AIOKafkaProducer, names: dict[str, str], partitions: int, stream: Stream) -> None:
        self.producer, self.names, self.stream = producer, names, stream
        self.partitions = list(range(partitions))
        self.partitioner = DefaultPartitioner()
        self.partition_of: dict[bytes, int] = {}
        self.batches: dict[tuple[str, int], object] = {}
        self.pending: list = []

    async def add(self, topic: str, key: str, value: bytes, event_type: str) -> None:
        raw_key = key.encode()
        partition = self.partition_of.get(raw_key)
        if partition is None:
            partition = self.partition_of[raw_key] = self.partitioner(raw_key, self.partitions, self.partitions)
        slot = (topic, partition)
        batch = self.batches.get(slot) or self.producer.create_batch()
        self.batches[slot] = batch
        headers = record_headers(event_type)
        if batch.append(key=raw_key, value=value, timestamp=None, headers=headers) is None:
            await self._send(slot)
            batch = self.batches[slot] = self.producer.create_batch()
            batch.append(key=raw_key, value=value, timestamp=None, headers=headers)
        self.stream.records[topic] = self.stream.records.get(topic, 0) + 1
        self.stream.bytes += len(value)

    async def _send(self, slot: tuple[str, int]) -> None:
        batch = self.batches.pop(slot)
        self.pending.append(await self.producer.send_batch(batch, self.names[slot[0]], partition=slot[1]))
        if len(self.pending) >= 200:
            for future in self.pending:
                await future
            self.pending = []

    async def flush(self) -> None:
        for slot in list(self.batches):
            await self._send(slot)
        for future in self.pending:
            await future
        self.pending = []


def _catalogue(units: int):
    from intake.domain.catalog import parse_province_file

    template = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
    base = template.plans[0]
    for n in range(1, PROVINCES + 1):
        code = f"{n:02d}"
        codes = [f"U{i:04d}" for i in range(1, units + 1)]
        province = template.province.model_copy(
            update={"code": code, "name": f"Tỉnh {code}", "issuing_body": f"BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH {code}"}
        )
        plan = base.model_copy(update={"id": f"p{code}-kh-2019", "province": code, "units": codes})
        yield (
            province,
            [UnitV1(province=code, code=c, name=f"Đơn vị {c} tỉnh {code}", kind="member") for c in codes],
            plan,
        )


async def produce(producer: AIOKafkaProducer, names: dict[str, str], partitions: int, *, events: int, units: int):
    """The catalogue, then months of submissions until `events` submission records are written."""
    stream = Stream()
    clock = Stopwatch()
    writer = Writer(producer, names, partitions, stream)
    rng = random.Random(20190601)
    plans = {}
    for province, unit_list, plan in _catalogue(units):
        plans[province.code] = plan
        entities = [(PROVINCE_UPSERTED, province), *((UNIT_UPSERTED, u) for u in unit_list), (PLAN_UPSERTED, plan)]
        for spec, entity in entities:
            event, key = make_event(spec, entity, source=INTAKE, province=province.code)
            stream.events += 1
            await writer.add(topic_names.CATALOG, key, _encode(event.model_dump(mode="json")), event.type)
    codes = [i.code for task in next(iter(plans.values())).template.tasks for i in task.indicators]
    figures = [
        json.dumps({c: rng.randrange(0, 40) * rng.randrange(0, 3) for c in codes}, ensure_ascii=False)
        for _ in range(997)
    ]
    narratives = [json.dumps(n, ensure_ascii=False) for n in NARRATIVES]
    unit_codes = [f"U{i:04d}" for i in range(1, units + 1)]
    per_month = PROVINCES * units * (1 + AMENDED * (1 + AMENDED_TWICE)) * (1 + DUPLICATED)
    months = max(1, round(events / per_month))
    checked: set[int] = set()
    month = 0
    latest: dict[tuple[str, str], int] = {}  # this month's highest version written per (province, unit)

    async def submit(province: str, unit: str, period: str, sid: str, version: int, at, first) -> None:
        if stream.submissions >= events:
            return
        spec_type = (SUBMISSION_RECEIVED if version == 1 else SUBMISSION_AMENDED).type
        value = SUBMISSION.format(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            type=spec_type,
            at=_iso(at),
            first=_iso(first),
            province=province,
            unit=unit,
            period=period,
            sid=sid,
            plan=plans[province].id,
            version=version,
            values=figures[int(rng.random() * len(figures))],
            narratives=narratives[int(rng.random() * len(narratives))],
            by=f"rep-{unit.lower()}",
        ).encode()
        if version not in checked:  # the first record of each version
            _check_shape(value)
            checked.add(version)
        stream.events += 1
        latest[(province, unit)] = max(version, latest.get((province, unit), 0))
        stream.amendments += version > 1
        for copy in range(2 if rng.random() < DUPLICATED else 1):
            if stream.submissions >= events:
                return
            stream.submissions += 1
            stream.duplicates += copy
            if stream.submissions % 250_000 == 0:
                say(f"  produced {stream.submissions:,} submission records in {clock.seconds:.0f}s")
            await writer.add(topic_names.SUBMISSIONS, f"{province}.{unit}", value, spec_type)

    while stream.submissions < events:
        year, m = divmod(month, 12)
        period = f"{2019 + year}-{m + 1:02d}"
        opened = datetime(2019 + year, m + 1, 1, 1, tzinfo=UTC)
        first_seen: dict[tuple[str, str], tuple[str, datetime]] = {}
        latest.clear()
        for n in range(1, PROVINCES + 1):
            province = f"{n:02d}"
            for i, unit in enumerate(unit_codes):
                at = opened + timedelta(
                    days=int(rng.random() * 14), seconds=i * 7, microseconds=int(rng.random() * 1e6)
                )
                sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                first_seen[(province, unit)] = (sid, at)
                await submit(province, unit, period, sid, 1, at, at)
        approved_at = opened + timedelta(days=15)
        # The last month's reports are approved before its amendments come in (and revert them).
        if not stream.approved and (stream.submissions >= events or month == months - 1):
            for n in range(1, PROVINCES + 1):
                await _status(writer, stream, REPORT_APPROVED, f"{n:02d}", plans, period, approved_at, 1 + units)
                stream.approved.add(f"{n:02d}")
            reverting = set(stream.approved)
        else:
            reverting = set()
        for (province, unit), (sid, first) in first_seen.items():
            if rng.random() >= AMENDED:
                continue
            versions = 3 if rng.random() < AMENDED_TWICE else 2
            for version in range(2, versions + 1):
                at = approved_at + timedelta(hours=version, seconds=rng.randrange(3600))
                await submit(province, unit, period, sid, version, at, first)
            if province in reverting and stream.submissions < events:
                reverting.discard(province)
                await _status(writer, stream, REPORT_REVERTED, province, plans, period, at, 2 + units, "system")
        stream.unit_reports += len(latest)
        stream.versions += sum(latest.values())
        month += 1
    await writer.flush()
    stream.seconds = clock.seconds
    return stream


async def _status(writer, stream, spec, province, plans, period, at, revision, by="op-bench") -> None:
    reverted = by == "system"
    change = ReportStatusV1(
        province=province,
        plan_id=plans[province].id,
        period=period,
        status="draft" if reverted else "approved",
        revision=revision,
        at=at,
        by=by,
        reason="Trở lại dự thảo: đơn vị gửi báo cáo sau khi đã duyệt." if reverted else None,
    )
    event, key = make_event(spec, change, source=CONSOLIDATION, province=province, time=at)
    stream.events += 1
    await writer.add(topic_names.REPORTS, key, _encode(event.model_dump(mode="json")), event.type)


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
