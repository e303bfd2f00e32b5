"""Deadlines' live consumer on real Kafka: a fetched batch of submissions goes in one transaction (a duplicate
delivery skipped by the inbox), and a batch with a poison record in its middle falls back to record by record,
so only the poison is dead-lettered and the records around it are applied."""

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
from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from baocao_shared.events.topics import dlq_topic
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.producer import ensure_topic
from baocao_testing.fixtures import create_database
from baocao_testing.kit import consumed_count, new_topic, poison_between, submission_record, wait_until
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.consumers import HANDLERS
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.main import MIGRATIONS
from services.deadlines.tests.integration.apps import HAI_DUONG, unit
from services.deadlines.tests.integration.test_submission_batches import OPENS, utc

pytestmark = pytest.mark.integration
AT = datetime(2019, 6, 11, 3, tzinfo=UTC)  # before June's deadline (16 June, 00:00 in Hải Dương)
UNITS = [f"U{n:03d}" for n in range(60)]


def record(code: str, version: int, sid: uuid.UUID) -> tuple[bytes, bytes, list]:
    return submission_record(
        code,
        version,
        sid,
        plan_id=HAI_DUONG.plans[0].id,
        first_received_at=AT,
        received_at=AT + timedelta(days=3 * (version - 1)),
    )  # a third version comes after the deadline


async def test_a_batch_goes_in_one_transaction_and_a_poisoned_one_record_by_record(postgres, kafka):
    url = await create_database(postgres, "dlconsumer")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await catalog.province_upserted(uow, HAI_DUONG.province)
        for code in UNITS:
            await catalog.unit_upserted(uow, unit(code))
        await catalog.plan_upserted(uow, HAI_DUONG.plans[0].model_copy(update={"units": UNITS}))
    await tick(sessions, now=utc(OPENS))
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    topic = await new_topic(kafka.bootstrap)
    group = f"t{uuid.uuid4().hex[:8]}-deadlines"
    await ensure_topic(kafka.bootstrap, dlq_topic(group), partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=True)
    await producer.start()
    sids = {code: uuid.uuid4() for code in UNITS}
    first = [record(code, 1, sid) for code, sid in sids.items()]
    first += [record(code, 2, sids[code]) for code in UNITS[:10]] + [first[7]]  # 10 amendments, 1 sent again
    for key, value, headers in first:
        await producer.send(topic, value=value, key=key, headers=headers)
    await producer.flush()
    runner = ConsumerRunner(
        group_id=group,
        topics=[topic],
        handlers=HANDLERS,
        sessionmaker=sessions,
        inbox=orm.inbox,
        bootstrap_servers=kafka.bootstrap,
        producer=producer,
        retry_initial_s=0.01,
    )
    consuming = asyncio.create_task(runner.run())

    async def obligations() -> tuple[int, int, int]:
        async with engine.connect() as conn:
            return tuple(
                (
                    await conn.execute(
                        text(
                            "SELECT count(first_submitted_at), sum(last_version), count(*) FILTER (WHERE"
                            " amended_after_due) FROM obligations"
                        )
                    )
                ).one()
            )

    async def announced() -> list[str]:
        async with engine.connect() as conn:
            query = text("SELECT payload FROM outbox WHERE event_type = :type ORDER BY id")
            rows = await conn.execute(query, {"type": OBLIGATION_UPDATED.type})
            return [payload["data"]["unit"] for (payload,) in rows]

    async def consumed(applied: int, duplicate: int = 0) -> bool:
        return consumed_count(group, "applied") >= applied and consumed_count(group, "duplicate") >= duplicate

    try:
        await wait_until(lambda: consumed(70, 1), timeout=60, what="the first 71 records consumed")
        assert await obligations() == (60, 70, 0), "60 units reported, 10 amended before the deadline"
        assert (consumed_count(group, "applied"), consumed_count(group, "duplicate")) == (70, 1)
        assert sorted(await announced()) == UNITS, "each unit announced once"
        inserts = [s for s in statements if s.startswith("INSERT INTO inbox")]
        assert len(inserts) <= 5, f"{len(inserts)} inbox inserts for 71 records fetched together"

        # A poison record (version 0 breaks the schema) between two good ones, fetched together.
        good = [record(u, 3, sids[u]) for u in ("U000", "U001", "U002")]
        poison, dead = await poison_between(producer, kafka.bootstrap, topic, group, good)
        await wait_until(lambda: consumed(72), timeout=60, what="the good records applied")
        assert [json.loads(r.value)["id"] for r in dead] == [poison]
        assert dict(dead[0].headers)["dlq.origin_offset"] == str(len(first) + 1).encode()
        # U001 and U002 at version 3, received after the deadline: amended after it; nothing of the poison.
        assert await obligations() == (60, 70 + 1 + 1, 2)
        assert sorted(await announced()) == UNITS, "nobody announced twice"
        assert consumed_count(group, "dead_lettered") == 1
    finally:
        consuming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consuming
        await producer.stop()
        await engine.dispose()
