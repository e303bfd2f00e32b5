"""The transactional outbox: record events with the state change, relay them to Kafka after.

`enqueue` runs inside the caller's transaction, so a rolled-back change publishes nothing.
`OutboxRelay` claims unsent rows with FOR UPDATE SKIP LOCKED (two relays never send one row),
sends them with the idempotent producer, and marks them sent in the same transaction. A crash
after sending and before the mark sends the rows again; consumers' inboxes absorb that. Each record
is a CloudEvent in the Kafka binding's structured mode (its headers: `messaging.headers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Sequence

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.faults import fault_point
from baocao_shared.messaging.headers import record_headers
from baocao_shared.messaging.tables import OUTBOX_CHANNEL
from baocao_shared.metrics import OUTBOX_BACKLOG, OUTBOX_SENT

log = structlog.get_logger(__name__)


# One statement, so one round trip, however many events: the rows travel as one JSON array (no limit on
# bind parameters), and the NOTIFY that wakes the relays is delivered at commit, not at all on rollback.
_ENQUEUE = """
WITH added AS (
    INSERT INTO {table} (event_id, topic, key, event_type, payload)
    SELECT r.event_id, r.topic, r.key, r.event_type, r.payload
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(event_id uuid, topic text, key text, event_type text, payload jsonb)
)
SELECT pg_notify(:channel, '')
"""


async def enqueue(
    db: AsyncSession | AsyncConnection,
    outbox: Table,
    topic: str,
    events: Sequence[tuple[CloudEvent, str]],
) -> None:
    """Add (event, key) pairs to the outbox within the current transaction, and wake the relay."""
    if not events:
        return
    rows = [
        {
            "event_id": str(event.id),
            "topic": topic,
            "key": key,
            "event_type": event.type,
            "payload": event.model_dump(mode="json"),
        }
        for event, key in events
    ]
    await db.execute(
        text(_ENQUEUE.format(table=outbox.name)),
        {"rows": json.dumps(rows, ensure_ascii=False), "channel": OUTBOX_CHANNEL},
    )


class OutboxRelay:
    """Sends outbox rows in id order, woken by LISTEN/NOTIFY with a polling fallback."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        outbox: Table,
        listen_dsn: str,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._outbox = outbox
        self._listen_dsn = listen_dsn
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._backlog_counted_at = -math.inf

    async def run(self) -> None:
        listener = await self._listen()
        try:
            while True:
                while await self.relay_batch() == self._batch_size:
                    pass
                # A gauge for the metrics: counted at most once a poll interval, not after every wake-up
                # (under load the relay wakes once per committed transaction).
                if time.monotonic() - self._backlog_counted_at >= self._poll_interval_s:
                    self._backlog_counted_at = time.monotonic()
                    await self._update_backlog()
                # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the result of a wake-up that
                # came with the task's cancellation, and the cancelled relay then ran on.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval_s):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            if listener is not None:
                await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self._listen_dsn)
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox.listen_unavailable", error=str(exc), fallback="polling")
            return None

    async def relay_batch(self) -> int:
        """Claim, send and mark one batch; returns how many rows it sent."""
        o = self._outbox
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(o.c.id, o.c.topic, o.c.key, o.c.payload)
                    .where(o.c.sent_at.is_(None))
                    .order_by(o.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            pending = [
                await self._producer.send(
                    row.topic,
                    value=json.dumps(row.payload, ensure_ascii=False).encode("utf-8"),
                    key=row.key.encode("utf-8"),
                    headers=record_headers(row.payload["type"]),
                )
                for row in rows
            ]
            await asyncio.gather(*pending)
            fault_point("relay.after_send")
            await conn.execute(update(o).where(o.c.id.in_([r.id for r in rows])).values(sent_at=text("now()")))
        for row in rows:
            OUTBOX_SENT.labels(row.topic).inc()
        return len(rows)

    async def _update_backlog(self) -> None:
        async with self._engine.connect() as conn:
            backlog = await conn.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
        OUTBOX_BACKLOG.set(backlog or 0)
