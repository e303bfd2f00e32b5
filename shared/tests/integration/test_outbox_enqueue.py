"""enqueue writes the events in one statement: in the order given, with their payloads, however many there
are, and wakes the relays with one notification at commit (none on rollback)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import select

from baocao_shared.db import asyncpg_dsn, make_engine, new_metadata
from baocao_shared.events import make_event
from baocao_shared.events.submissions import SUBMISSION_RECEIVED
from baocao_shared.messaging.outbox import enqueue
from baocao_shared.messaging.tables import OUTBOX_CHANNEL, outbox_table
from baocao_testing.fixtures import create_database
from baocao_testing.samples import a_submission

pytestmark = pytest.mark.integration


def received(unit: str):
    data = a_submission(unit=unit, narratives={"T1": 'Hội nghị quán triệt "Chỉ thị 44"\n– 420 lượt người'})
    return make_event(SUBMISSION_RECEIVED, data, source="/baocao/test", province="30")


@pytest.fixture
async def database(postgres):
    url = await create_database(postgres, "outbox")
    engine = make_engine(url)
    outbox = outbox_table(new_metadata())
    async with engine.begin() as conn:
        await conn.run_sync(outbox.metadata.create_all)
    listener = await asyncpg.connect(asyncpg_dsn(url))
    woken: asyncio.Queue = asyncio.Queue()
    await listener.add_listener(OUTBOX_CHANNEL, lambda *args: woken.put_nowait(args))
    yield engine, outbox, woken
    await listener.close()
    await engine.dispose()


async def stored(engine, outbox) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(select(outbox).order_by(outbox.c.id))).all()


async def test_events_are_stored_in_order_with_their_payloads_and_one_wake_up_at_commit(database):
    engine, outbox, woken = database
    events = [received(f"U{i}") for i in range(5)]
    async with engine.begin() as conn:
        await enqueue(conn, outbox, "baocao.submissions", events)
        assert woken.empty(), "nothing is announced before the commit"
    await asyncio.wait_for(woken.get(), timeout=10)
    rows = await stored(engine, outbox)
    assert [(r.event_id, r.key, r.topic, r.event_type) for r in rows] == [
        (event.id, key, "baocao.submissions", SUBMISSION_RECEIVED.type) for event, key in events
    ]
    assert [r.payload for r in rows] == [event.model_dump(mode="json") for event, _ in events]
    assert all(r.sent_at is None and r.created_at is not None for r in rows)
    await asyncio.sleep(0.2)
    assert woken.empty(), "one notification for the transaction"


async def test_a_rolled_back_enqueue_stores_and_announces_nothing(database):
    engine, outbox, woken = database
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await enqueue(conn, outbox, "baocao.submissions", [received("CA")])
        await transaction.rollback()
    await asyncio.sleep(0.5)
    assert woken.empty() and await stored(engine, outbox) == []


async def test_more_events_than_one_statement_has_bind_parameters_for(database):
    engine, outbox, _ = database
    events = [received(f"U{i}") for i in range(7000)]  # 5 columns each: 35,000 > PostgreSQL's 32,767 parameters
    async with engine.begin() as conn:
        await enqueue(conn, outbox, "baocao.catalog", events)
    rows = await stored(engine, outbox)
    assert [r.event_id for r in rows] == [event.id for event, _ in events]
