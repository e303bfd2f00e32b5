"""The event backbone on a real broker and a real database: outbox -> Kafka -> inbox, exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text

from baocao_shared.db import asyncpg_dsn, make_engine, make_sessionmaker
from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.submissions import SUBMISSION_RECEIVED
from baocao_shared.events.topics import dlq_topic
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.outbox import OutboxRelay, enqueue
from baocao_shared.messaging.producer import make_producer
from baocao_testing.fixtures import create_database
from baocao_testing.kit import new_topic, read_topic, wait_until
from baocao_testing.samples import a_submission

WORKER = Path(__file__).with_name("backbone_worker.py")
pytestmark = pytest.mark.integration


def submission_event(unit: str = "CA", version: int = 1) -> tuple[CloudEvent, str]:
    data = a_submission(unit=unit, version=version, narratives={"T1": "Hội nghị quán triệt"})
    return make_event(SUBMISSION_RECEIVED, data, source="/baocao/test", province="30")


class Worker:
    """One backbone_worker.py process with its own log file."""

    def __init__(self, tmp: Path, *args: str, faults: str = "") -> None:
        self.log = tmp / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
        env = {**os.environ, "BAOCAO_FAULTS": faults, "BAOCAO_FAULTS_DIR": str(tmp)}
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), *args], stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env
        )

    async def wait_killed(self, timeout: float = 60) -> int:
        async def exited():
            return self.proc.poll() is not None

        await wait_until(exited, timeout=timeout, what=f"{self.log.name} to hit its fault point")
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def text(self) -> str:
        return self.log.read_text()


@pytest.fixture
async def source_db(postgres):
    """The producing service's database, with an outbox."""
    url = await create_database(postgres, "src")
    engine = make_engine(url)
    from baocao_shared.db import new_metadata
    from baocao_shared.messaging.tables import outbox_table

    metadata = new_metadata()
    outbox = outbox_table(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield url, engine, outbox
    await engine.dispose()


async def count_effects(url: str) -> dict[uuid.UUID, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("SELECT to_regclass('effects') IS NOT NULL"))
            if not exists:
                return {}
            rows = await conn.execute(text("SELECT event_id, count(*) FROM effects GROUP BY event_id"))
            return {r[0]: r[1] for r in rows}
    finally:
        await engine.dispose()


@pytest.mark.faults  # SIGKILLs worker processes mid-flight: make test runs it, make check leaves it to make test
async def test_exactly_one_effect_when_relay_and_consumer_are_killed_mid_flight(kafka, postgres, source_db, tmp_path):
    url, engine, outbox = source_db
    topic = await new_topic(kafka.bootstrap, partitions=3)
    events = [submission_event(unit=f"U{i}") for i in range(60)]
    async with engine.begin() as conn:
        await enqueue(conn, outbox, topic, events)

    # The relay sends the batch, then dies before marking the rows sent.
    relay = Worker(tmp_path, "relay", url, kafka.bootstrap, faults="relay.after_send")
    assert await relay.wait_killed() == -signal.SIGKILL
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).where(outbox.c.sent_at.is_(None))) == 60
    relay = Worker(tmp_path, "relay", url, kafka.bootstrap)

    async def all_marked_sent():
        async with engine.connect() as conn:
            return await conn.scalar(select(func.count()).where(outbox.c.sent_at.is_(None))) == 0

    await wait_until(all_marked_sent, timeout=30, what="the restarted relay to mark every row sent")
    relay.stop()
    on_topic = await read_topic(kafka.bootstrap, topic)
    assert len(on_topic) == 120, "the restarted relay sends the unmarked batch again"

    # The consumer commits its DB transaction, then dies before committing the offset.
    sink = await create_database(postgres, "sink")
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = Worker(tmp_path, "consume", sink, kafka.bootstrap, group, topic, faults="consumer.after_db_commit")
    assert await consumer.wait_killed() == -signal.SIGKILL
    consumer = Worker(tmp_path, "consume", sink, kafka.bootstrap, group, topic)
    try:

        async def every_event_applied():
            return len(await count_effects(sink)) == 60

        await wait_until(every_event_applied, timeout=60, what="60 distinct effects")
        await asyncio.sleep(1.0)  # let any stray redelivery land before counting
        effects = await count_effects(sink)
    finally:
        consumer.stop()
    assert set(effects) == {e.id for e, _ in events}
    assert set(effects.values()) == {1}, "an event took effect more than once"
    assert "consumer.duplicate_skipped" in consumer.text(), "redelivered records were absorbed by the inbox"


async def test_rolled_back_transaction_publishes_nothing(kafka, source_db):
    url, engine, outbox = source_db
    topic = await new_topic(kafka.bootstrap)
    rolled_back, committed = submission_event("ROLLBACK"), submission_event("COMMIT")
    async with engine.connect() as conn:
        trans = await conn.begin()
        await enqueue(conn, outbox, topic, [rolled_back])
        await trans.rollback()
    async with engine.begin() as conn:
        await enqueue(conn, outbox, topic, [committed])

    producer = make_producer(kafka.bootstrap, client_id="test-relay")
    await producer.start()
    try:
        relay = OutboxRelay(engine=engine, producer=producer, outbox=outbox, listen_dsn=asyncpg_dsn(url))
        assert await relay.relay_batch() == 1
    finally:
        await producer.stop()
    ids = [CloudEvent.from_bytes(r.value).id for r in await read_topic(kafka.bootstrap, topic)]
    assert ids == [committed[0].id]


async def test_two_relays_never_send_one_row_twice(kafka, source_db):
    url, engine, outbox = source_db
    topic = await new_topic(kafka.bootstrap, partitions=3)
    events = [submission_event(unit=f"U{i % 40}") for i in range(3000)]
    async with engine.begin() as conn:
        await enqueue(conn, outbox, topic, events)

    engines = [make_engine(url), make_engine(url)]
    producers = [make_producer(kafka.bootstrap, client_id=f"relay-{i}") for i in range(2)]
    for p in producers:
        await p.start()
    relays = [
        OutboxRelay(engine=e, producer=p, outbox=outbox, listen_dsn=asyncpg_dsn(url), batch_size=100)
        for e, p in zip(engines, producers, strict=True)
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:

        async def drained():
            async with engine.connect() as conn:
                return await conn.scalar(select(func.count()).where(outbox.c.sent_at.is_(None))) == 0

        await wait_until(drained, timeout=60, what="both relays to drain the outbox")
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for p in producers:
            await p.stop()
        for e in engines:
            await e.dispose()
    sent = [CloudEvent.from_bytes(r.value).id for r in await read_topic(kafka.bootstrap, topic)]
    assert len(sent) == 3000
    assert len(set(sent)) == 3000


async def _run_consumer(kafka, url, group, topic, handlers, *, max_attempts=3):
    from baocao_shared.db import new_metadata
    from baocao_shared.messaging.tables import inbox_table

    metadata = new_metadata()
    inbox = inbox_table(metadata)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(text("CREATE TABLE IF NOT EXISTS effects (event_id uuid, applied_by text)"))
    producer = make_producer(kafka.bootstrap, client_id=group)
    await producer.start()
    runner = ConsumerRunner(
        group_id=group,
        topics=[topic],
        handlers=handlers,
        sessionmaker=make_sessionmaker(engine),
        inbox=inbox,
        bootstrap_servers=kafka.bootstrap,
        producer=producer,
        max_attempts=max_attempts,
        retry_initial_s=0.01,
        retry_max_s=0.05,
    )
    task = asyncio.create_task(runner.run())
    return task, engine, producer, runner


async def _stop(task, engine, producer, runner=None) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await producer.stop()
    await engine.dispose()


def effect_recorder(applied_by: str):
    async def record(session, event):
        await session.execute(
            text("INSERT INTO effects (event_id, applied_by) VALUES (:id, :by)"), {"id": event.id, "by": applied_by}
        )

    return record


async def test_poison_records_go_to_the_dlq_and_the_partition_moves_on(kafka, postgres):
    url = await create_database(postgres, "poison")
    topic = await new_topic(kafka.bootstrap, partitions=1)
    group = f"poison-{uuid.uuid4().hex[:6]}"
    failing_type = "vn.baocao.test.always_fails.v1"
    not_json, wrong_envelope = b"\xff\xfe not json", b'{"specversion": "1.0", "id": "nope"}'
    failing = CloudEvent(source="/test", type=failing_type, data={})
    good, _ = submission_event("GOOD")

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    for value in (not_json, wrong_envelope, failing.to_bytes(), good.to_bytes()):
        await producer.send_and_wait(topic, value=value, key=b"30.CA")
    await producer.stop()

    calls = []

    async def always_fails(session, event):
        calls.append(event.id)
        raise RuntimeError("downstream said no")

    handlers = {failing_type: always_fails, SUBMISSION_RECEIVED.type: effect_recorder(group)}
    running = await _run_consumer(kafka, url, group, topic, handlers, max_attempts=3)
    try:

        async def good_applied():
            return good.id in await count_effects(url)

        await wait_until(good_applied, timeout=30, what="the record after the poison ones to be applied")

        async def three_dead_letters():
            records = await read_topic(kafka.bootstrap, dlq_topic(group))
            return records if len(records) == 3 else None

        dead = await wait_until(three_dead_letters, timeout=30, what="3 records on the DLQ")
    finally:
        await _stop(*running)
    assert [r.value for r in dead] == [not_json, wrong_envelope, failing.to_bytes()]
    headers = [dict(r.headers) for r in dead]
    assert all(h["dlq.origin_topic"] == topic.encode() for h in headers)
    assert [h["dlq.origin_offset"] for h in headers] == [b"0", b"1", b"2"]
    assert b"not a CloudEvent" in headers[0]["dlq.error"]
    assert headers[2]["dlq.error"] == b"RuntimeError: downstream said no"
    assert headers[2]["dlq.attempts"] == b"3"
    assert len(calls) == 3, "the failing handler is tried max_attempts times"


async def test_two_consumers_in_one_group_split_the_partitions_without_double_effect(kafka, postgres, source_db):
    url = await create_database(postgres, "split")
    topic = await new_topic(kafka.bootstrap, partitions=4)
    group = f"split-{uuid.uuid4().hex[:6]}"
    events = [submission_event(unit=f"U{i}") for i in range(400)]

    first = await _run_consumer(kafka, url, group, topic, {SUBMISSION_RECEIVED.type: effect_recorder("a")})
    second = await _run_consumer(kafka, url, group, topic, {SUBMISSION_RECEIVED.type: effect_recorder("b")})

    async def both_hold_partitions():
        a, b = first[3].assignment(), second[3].assignment()
        return a and b and len(a | b) == 4

    await wait_until(both_hold_partitions, timeout=60, what="the group to split 4 partitions between 2 members")
    src_url, src_engine, outbox = source_db
    async with src_engine.begin() as conn:
        await enqueue(conn, outbox, topic, events)
    producer = make_producer(kafka.bootstrap, client_id="split-relay")
    await producer.start()
    relay = OutboxRelay(engine=src_engine, producer=producer, outbox=outbox, listen_dsn=asyncpg_dsn(src_url))
    try:
        while await relay.relay_batch():
            pass

        async def all_applied():
            return len(await count_effects(url)) == 400

        await wait_until(all_applied, timeout=60, what="400 effects from the two group members")
        engine = make_engine(url)
        async with engine.connect() as conn:
            by_member = dict((await conn.execute(text("SELECT applied_by, count(*) FROM effects GROUP BY 1"))).all())
        await engine.dispose()
    finally:
        await producer.stop()
        await _stop(*first)
        await _stop(*second)
    effects = await count_effects(url)
    assert set(effects.values()) == {1}
    assert by_member.get("a", 0) > 0 and by_member.get("b", 0) > 0, f"both members took partitions: {by_member}"
    assert sum(by_member.values()) == 400
