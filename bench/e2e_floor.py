"""The end-to-end suite's floor: the same offered rate through one bare INSERT per request, a Kafka round trip
and one commit, measured on the run's servers beside the services; and the helpers both sides use."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener

from baocao_shared.db import asyncpg_dsn
from baocao_shared.messaging.producer import make_producer
from baocao_testing.kit import new_topic
from bench.harness import Infra
from bench.observe import Watcher
from bench.openloop import open_loop

DRAIN_S = 30  # after the last scheduled start, how long the answers may take (then: "no answer")
VISIBLE_S = 30  # after that, how long the accepted ones may take to become visible (then: never_visible)


# ---------------------------------------------------------------------------------------------------- the floor


def cpu_seconds() -> float:
    """CPU seconds of this process (the load generator and the watchers; the floor's pipeline too)."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


async def all_seen(watchers: dict[str, Watcher], timeout: float) -> dict[str, bool]:
    """Until every watcher saw all it waits for, within one bound for all of them."""
    seen = await asyncio.gather(*(w.wait_all(timeout) for w in watchers.values()))
    return dict(zip(watchers, seen, strict=True))


async def floor_level(infra: Infra, rate: float, seconds: float, payload: bytes) -> dict:
    """The baseline: commit, produce, two consumer groups each committing what they read."""
    bootstrap = infra.kafka.bootstrap
    topic = await new_topic(bootstrap, partitions=3, prefix="bench.floor")
    source = asyncpg_dsn(await infra.create_database("floor_src"))
    sinks = {name: asyncpg_dsn(await infra.create_database(f"floor_{name}")) for name in ("compliance", "totals")}
    src = await asyncpg.create_pool(source, min_size=4, max_size=16)
    await src.execute("CREATE TABLE submitted (k text PRIMARY KEY, body bytea NOT NULL)")
    for dsn in sinks.values():
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE landed (k text PRIMARY KEY)")
        await conn.close()
    seen = "SELECT k FROM landed WHERE k = ANY($1::text[])"
    watchers = {name: Watcher(name, dsn, seen) for name, dsn in sinks.items()}
    producer = make_producer(bootstrap, client_id="bench-floor")
    await producer.start()
    group = f"bench-floor-{uuid.uuid4().hex[:6]}"
    assigned = {name: asyncio.Event() for name in sinks}
    consumers = [
        asyncio.create_task(_floor_consumer(bootstrap, topic, f"{group}-{name}", dsn, assigned[name]))
        for name, dsn in sinks.items()
    ]
    try:
        # Each group holds the topic's partitions before the first record (its join is not the path's cost).
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in assigned.values())), 60)
        for watcher in watchers.values():
            await watcher.start()

        async def send(i: int) -> tuple[int, bytes]:
            key = f"{i}"
            await src.execute("INSERT INTO submitted (k, body) VALUES ($1, $2)", key, payload)
            accepted = time.perf_counter()
            for watcher in watchers.values():
                watcher.expect(key, accepted)
            await producer.send(topic, value=payload, key=key.encode())
            return 201, b""

        cpu = cpu_seconds()
        run = await open_loop(rate, seconds, send, limit=10**9, drain_s=DRAIN_S)
        caught = await all_seen(watchers, VISIBLE_S)
        cpu = cpu_seconds() - cpu
    finally:
        for task in consumers:
            task.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)
        for watcher in watchers.values():
            await watcher.stop()
        await producer.stop()
        await src.close()
    return {"run": run, "watchers": watchers, "caught_up": caught, "cpu_s": cpu}


class _Assigned(ConsumerRebalanceListener):
    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        if assigned:
            self._event.set()


async def _floor_consumer(bootstrap: str, topic: str, group: str, dsn: str, assigned: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    consumer.subscribe([topic], listener=_Assigned(assigned))
    conn = await asyncpg.connect(dsn)
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            keys = [r.key.decode() for records in batches.values() for r in records]
            if keys:
                async with conn.transaction():
                    await conn.execute("INSERT INTO landed (k) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", keys)
                await consumer.commit()
    finally:
        await consumer.stop()
        await conn.close()
