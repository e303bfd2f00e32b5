"""The live consumer on real Kafka: a fetched batch of submissions goes in one transaction, and a batch
with a poison record in it falls back to record by record, so only the poison is dead-lettered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import event, text

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.topics import dlq_topic
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.producer import ensure_topic
from baocao_testing.fixtures import create_database
from baocao_testing.kit import consumed_count, new_topic, poison_between, submission_record, wait_until
from consolidation.adapters import orm
from consolidation.consumers import HANDLERS
from consolidation.main import MIGRATIONS

pytestmark = pytest.mark.integration
AT = datetime(2019, 6, 10, 3, tzinfo=UTC)


def record(unit: str, version: int, sid: uuid.UUID) -> tuple[bytes, bytes, list]:
    return submission_record(
        unit, version, sid, plan_id="hd-467-2019", first_received_at=AT, received_at=AT + timedelta(hours=version)
    )


async def test_a_batch_goes_in_one_transaction_and_a_poisoned_one_record_by_record(postgres, kafka):
    url = await create_database(postgres, "consumer")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url, pool_size=2)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    topic = await new_topic(kafka.bootstrap)
    group = f"t{uuid.uuid4().hex[:8]}-consolidation"
    await ensure_topic(kafka.bootstrap, dlq_topic(group), partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=True)
    await producer.start()
    sids = {f"U{n:03d}": uuid.uuid4() for n in range(100)}
    first = [record(unit, 1, sid) for unit, sid in sids.items()]
    first += [record(unit, 2, sids[unit]) for unit in list(sids)[:20]] + [first[7]]  # 20 amendments, 1 re-send
    for key, value, headers in first:
        await producer.send(topic, value=value, key=key, headers=headers)
    await producer.flush()
    runner = ConsumerRunner(
        group_id=group,
        topics=[topic],
        handlers=HANDLERS,
        sessionmaker=make_sessionmaker(engine),
        inbox=orm.inbox,
        bootstrap_servers=kafka.bootstrap,
        producer=producer,
        retry_initial_s=0.01,
    )
    consuming = asyncio.create_task(runner.run())

    async def reports() -> tuple[int, int]:
        async with engine.connect() as conn:
            return tuple((await conn.execute(text("SELECT count(*), sum(version) FROM unit_reports"))).one())

    async def consumed(applied: int, duplicate: int = 0) -> bool:
        return consumed_count(group, "applied") >= applied and consumed_count(group, "duplicate") >= duplicate

    try:
        await wait_until(lambda: consumed(120, 1), timeout=60, what="the first 121 records consumed")
        assert await reports() == (100, 120)
        assert (consumed_count(group, "applied"), consumed_count(group, "duplicate")) == (120, 1)
        inserts = [s for s in statements if s.startswith("INSERT INTO inbox")]
        assert len(inserts) <= 5, f"{len(inserts)} inbox inserts for 121 records fetched together"

        # A poison record (version 0 breaks the schema) between two good ones, fetched together.
        good = [record(u, 3, sids[u]) for u in ("U000", "U001", "U002")]
        poison, dead = await poison_between(producer, kafka.bootstrap, topic, group, good)
        await wait_until(lambda: consumed(122), timeout=60, what="the good records applied")
        assert [json.loads(r.value)["id"] for r in dead] == [poison]
        assert dict(dead[0].headers)["dlq.origin_offset"] == str(len(first) + 1).encode()
        assert await reports() == (100, 120 + 1 + 1), "U001 and U002 at version 3, nothing of the poison"
        assert consumed_count(group, "dead_lettered") == 1
    finally:
        consuming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consuming
        await producer.stop()
        await engine.dispose()
