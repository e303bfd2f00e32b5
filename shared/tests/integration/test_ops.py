"""The operators' API on a real broker and database: a dead letter is listed, replayed once, and applied.

A small service built with the shared runtime reads its own topic with two consumer groups: `failing`
refuses one event until its cause is fixed, `healthy` applies everything. Both leave an effect row per
event they apply.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text, update

from baocao_shared.db import make_engine, new_metadata
from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import dlq_topic
from baocao_shared.messaging.outbox import enqueue
from baocao_shared.messaging.tables import dlq_replays_table, outbox_table
from baocao_shared.ops import REPLAY_HEADER, outbox_backlog, pipeline_status
from baocao_shared.runtime import ConsumerSpec, ServiceRuntime
from baocao_shared.service import build_service_app
from baocao_shared.settings import ServiceSettings
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, new_topic, read_topic, wait_until

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).with_name("ops_migrations")
EVENT_TYPE = "vn.baocao.test.ops.v1"


def event(unit: str) -> CloudEvent:
    return CloudEvent(source="/baocao/test", type=EVENT_TYPE, subject=unit, data={"unit": unit})


@dataclass
class Service:
    app: object
    runtime: ServiceRuntime
    topic: str
    mint: TokenMint
    fixed: set[str]  # units whose cause is fixed: the `failing` group refuses the others named in `refused`
    refused: set[str]

    def group(self, name: str) -> str:
        return self.runtime.settings.consumer_group_prefix + name

    def client(self, role: str, province: str | None = None, unit: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://ops.test",
            headers=self.mint.headers(role, province, unit),
        )

    async def effects(self) -> list[tuple[str, str]]:
        async with self.runtime.engine.connect() as conn:
            rows = await conn.execute(text("SELECT applied_by, event_id::text FROM effects ORDER BY 1, 2"))
            return [tuple(r) for r in rows]

    async def publish(self, *values: bytes) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.runtime.settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(self.topic, value=value, key=b"30.CA")
        finally:
            await producer.stop()


def recorder(group: str, service_ref: list[Service]):
    async def apply(session, event: CloudEvent) -> None:
        service = service_ref[0]
        unit = event.data["unit"]
        if group == "failing" and unit in service.refused and unit not in service.fixed:
            raise RuntimeError(f"unit {unit} is not in the catalogue yet\n(a second line the page does not show)")
        await session.execute(
            text("INSERT INTO effects (applied_by, event_id) VALUES (:by, :id)"), {"by": group, "id": event.id}
        )

    return apply


@pytest.fixture
async def service(kafka, postgres, group_prefix) -> AsyncIterator[Service]:
    topic = await new_topic(kafka.bootstrap, partitions=1, prefix="ops")
    ref: list[Service] = []
    settings = ServiceSettings(
        service_name="opstest",
        env="test",
        http_port=free_port(),
        database_url=await create_database(postgres, "ops"),
        kafka_bootstrap_servers=kafka.bootstrap,
        consumer_group_prefix=group_prefix,
        consumer_max_attempts=2,
    )
    consumers = [
        ConsumerSpec(group_id=name, topics=[topic], handlers={EVENT_TYPE: recorder(name, ref)})
        for name in ("failing", "healthy")
    ]
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=new_metadata(), consumers=consumers)
    app = build_service_app(runtime, title="ops test", description="")
    mint = TokenMint()
    app.state.jwt_verifier = mint.verifier()
    ref.append(Service(app, runtime, topic, mint, fixed=set(), refused=set()))
    async with app.router.lifespan_context(app):
        yield ref[0]


async def test_a_dead_letter_is_listed_then_replayed_once_its_cause_is_fixed(service: Service):
    service.refused.add("NEW")
    stuck, behind = event("NEW"), event("CA")
    await service.publish(stuck.to_bytes(), behind.to_bytes())
    failing, healthy = service.group("failing"), service.group("healthy")

    async def settled():
        async with service.client("national_operator") as client:
            answer = (await client.get("/v1/ops/pipeline")).json()
        lags = {g["group"]: g["lag"] for g in answer["consumers"]}
        queues = {q["group"]: q for q in answer["dead_letters"]}
        return lags == {failing: 0, healthy: 0} and queues[failing]["records"] == 1 and answer

    answer = await wait_until(settled, timeout=60, interval=0.5, what="the dead letter, and both groups past it")
    assert answer["service"] == "opstest" and answer["kafka_error"] is None
    assert answer["outbox"] == {"unsent": 0, "oldest_unsent_at": None, "oldest_age_s": None, "error": None}
    by_group = {g["group"]: g for g in answer["consumers"]}
    assert by_group[failing]["partitions"] == [
        {"topic": service.topic, "partition": 0, "committed": 2, "end": 2, "lag": 0}
    ], "the partition moved on past the dead letter"
    queues = {q["group"]: q for q in answer["dead_letters"]}
    assert queues[healthy] == {"group": healthy, "topic": dlq_topic(healthy), "records": 0, "latest": []}
    [letter] = queues[failing]["latest"]
    assert letter["origin_topic"] == service.topic
    assert (letter["origin_partition"], letter["origin_offset"], letter["attempts"]) == (0, 0, 2)
    assert letter["error_type"] == "RuntimeError"
    assert letter["error"] == "RuntimeError: unit NEW is not in the catalogue yet"
    assert (letter["event_type"], letter["event_id"]) == (EVENT_TYPE, str(stuck.id))
    assert letter["replayed_at"] is None and letter["replayed_by"] is None
    assert await service.effects() == sorted(
        [("failing", str(behind.id)), ("healthy", str(stuck.id)), ("healthy", str(behind.id))]
    )

    record = {"partition": letter["partition"], "offset": letter["offset"]}
    for role, scope in (("reporter", ("30", "CA")), ("province_operator", ("30",)), ("national_operator", ())):
        async with service.client(role, *scope) as client:
            refused = await client.post(f"/v1/ops/dlq/{failing}/replay", json=record)
        assert refused.status_code == 403, (role, refused.text)
    for role, scope in (("reporter", ("30", "CA")), ("province_operator", ("30",))):
        async with service.client(role, *scope) as client:
            assert (await client.get("/v1/ops/pipeline")).status_code == 403

    service.fixed.add("NEW")  # the catalogue caught up: the cause is gone
    async with service.client("admin") as client:
        replayed = await client.post(f"/v1/ops/dlq/{failing}/replay", json=record)
        assert replayed.status_code == 202, replayed.text

        async def applied():
            return ("failing", str(stuck.id)) in await service.effects()

        await wait_until(applied, timeout=30, what="the failing group to apply the replayed record")
        again = await client.post(f"/v1/ops/dlq/{failing}/replay", json=record)
        missing = await client.post(f"/v1/ops/dlq/{failing}/replay", json={"partition": 0, "offset": 99})
        stranger = await client.post("/v1/ops/dlq/someone-else/replay", json=record)
        listed = (await client.get("/v1/ops/pipeline")).json()

    body = replayed.json()
    assert (body["group"], body["origin_topic"], body["origin_partition"]) == (failing, service.topic, 0)
    assert (body["event_id"], body["replayed_by"], body["replayed_to_offset"]) == (str(stuck.id), "test-admin", 2)
    assert again.status_code == 409
    assert again.json()["error"]["message"].startswith("This record was already replayed by test-admin at ")
    assert missing.status_code == 404 and stranger.status_code == 404
    [shown] = {q["group"]: q for q in listed["dead_letters"]}[failing]["latest"]
    assert shown["replayed_by"] == "test-admin" and shown["replayed_at"] == body["replayed_at"]

    # Count only once the healthy group has committed past the replayed copy: it has read it.
    admin = AIOKafkaAdminClient(bootstrap_servers=service.runtime.settings.kafka_bootstrap_servers)
    await admin.start()
    try:

        async def healthy_read_the_copy() -> bool:
            committed = await admin.list_consumer_group_offsets(healthy)
            position = committed.get(TopicPartition(service.topic, 0))
            return position is not None and position.offset > body["replayed_to_offset"]

        await wait_until(healthy_read_the_copy, timeout=30, what="the healthy group to read the replayed copy")
    finally:
        await admin.close()
    assert await service.effects() == sorted(
        [
            ("failing", str(behind.id)),
            ("failing", str(stuck.id)),
            ("healthy", str(stuck.id)),
            ("healthy", str(behind.id)),
        ]
    ), "applied once by the group that failed; the other group skipped the copy through its inbox"
    copy = (await read_topic(service.runtime.settings.kafka_bootstrap_servers, service.topic))[-1]
    assert copy.value == stuck.to_bytes() and copy.key == b"30.CA"
    headers = dict(copy.headers)
    assert headers[REPLAY_HEADER] == f"{dlq_topic(failing)}:{letter['partition']}:{letter['offset']}".encode()
    assert not [k for k in headers if k.startswith("dlq.")]


async def test_a_record_that_is_no_event_is_replayed_as_its_raw_bytes(service: Service):
    raw = b"\xff\xfe not an event"
    await service.publish(raw)
    failing = service.group("failing")

    async def dead() -> list:
        return await read_topic(service.runtime.settings.kafka_bootstrap_servers, dlq_topic(failing))

    await wait_until(dead, timeout=60, what="the raw record on the failing group's DLQ")
    async with service.client("admin") as client:
        listed = (await client.get("/v1/ops/pipeline")).json()
        [letter] = {q["group"]: q for q in listed["dead_letters"]}[failing]["latest"]
        record = {"partition": letter["partition"], "offset": letter["offset"]}
        replayed = await client.post(f"/v1/ops/dlq/{failing}/replay", json=record)
    assert (letter["event_type"], letter["event_id"], letter["error_type"]) == (None, None, "PoisonRecord")
    assert "not a CloudEvent" in letter["error"]
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["event_type"] is None
    copy = (await read_topic(service.runtime.settings.kafka_bootstrap_servers, service.topic))[-1]
    assert (copy.offset, copy.value) == (1, raw)


async def test_lag_counts_from_the_start_for_a_group_that_has_not_consumed_yet(kafka, fresh_database):
    topic = await new_topic(kafka.bootstrap, partitions=3, prefix="ops-lag")
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        for partition, count in ((0, 3), (1, 1)):
            for _ in range(count):
                await producer.send_and_wait(topic, value=event("CA").to_bytes(), partition=partition)
    finally:
        await producer.stop()
    group = f"ops-idle-{uuid.uuid4().hex[:6]}"
    metadata = new_metadata()
    engine = make_engine(fresh_database)
    tables = {"outbox": outbox_table(metadata), "replays": dlq_replays_table(metadata)}
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)

    async def status():
        return await pipeline_status(
            service="opstest",
            engine=engine,
            outbox=tables["outbox"],
            replays=tables["replays"],
            bootstrap_servers=kafka.bootstrap,
            groups={group: [topic]},
        )

    try:
        before = await status()
        # The group reads two of partition 0's three records and commits.
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=group, enable_auto_commit=False)
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.start()
        try:
            await consumer.commit({TopicPartition(topic, 0): 2})
        finally:
            await consumer.stop()
        after = await status()
    finally:
        await engine.dispose()
    figures = [(p.partition, p.committed, p.end, p.lag) for p in before.consumers[0].partitions]
    assert figures == [(0, None, 3, 3), (1, None, 1, 1), (2, None, 0, 0)]
    assert before.consumers[0].lag == 4 and before.dead_letters[0].records == 0
    assert [(p.partition, p.committed, p.lag) for p in after.consumers[0].partitions] == [
        (0, 2, 1),
        (1, None, 1),
        (2, None, 0),
    ]


async def test_the_outbox_backlog_counts_unsent_rows_and_an_unreachable_broker_does_not_hang(fresh_database):
    metadata = new_metadata()
    outbox, replays = outbox_table(metadata), dlq_replays_table(metadata)
    engine = make_engine(fresh_database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            events = [(event(unit), "30.CA") for unit in ("A", "B", "C")]
            await enqueue(conn, outbox, "baocao.nowhere", events)
            await conn.execute(update(outbox).where(outbox.c.event_id == events[0][0].id).values(sent_at=text("now()")))
        await asyncio.sleep(0.3)
        backlog = await outbox_backlog(engine, outbox)
        closed = f"127.0.0.1:{free_port()}"
        unreachable = await asyncio.wait_for(
            pipeline_status(
                service="opstest",
                engine=engine,
                outbox=outbox,
                replays=replays,
                bootstrap_servers=closed,
                groups={"g": ["t"]},
                timeout_s=2,
            ),
            10,
        )
    finally:
        await engine.dispose()
    assert backlog.unsent == 2 and backlog.error is None
    assert backlog.oldest_age_s >= 0.3 and backlog.oldest_unsent_at is not None
    assert unreachable.outbox.unsent == 2, "what the database knows is still answered"
    assert unreachable.kafka_error.startswith("Kafka: ")
    assert unreachable.consumers[0].group == "g" and unreachable.consumers[0].lag is None
    assert unreachable.dead_letters[0].records is None
