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
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import pydantic_core
import structlog
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import EventSpec, envelope_of, new_event_ids
from baocao_shared.faults import fault_point
from baocao_shared.messaging.headers import record_headers
from baocao_shared.messaging.tables import OUTBOX_CHANNEL
from baocao_shared.metrics import OUTBOX_BACKLOG, OUTBOX_SENT

log = structlog.get_logger(__name__)


# One statement, so one round trip, however many events: the rows travel as one JSON array (no limit on
# bind parameters), and the NOTIFY that wakes the relays is delivered at commit, not at all on rollback.
# created_at is when the row was written (clock_timestamp(), not the transaction's start as now() would be): its
# wait in the outbox, sent_at - created_at, is then the relay's part, not the rest of the request's transaction.
_ENQUEUE = """
WITH added AS (
    INSERT INTO {table} (event_id, topic, key, event_type, payload, created_at)
    SELECT r.event_id, r.topic, r.key, r.event_type, r.payload, clock_timestamp()
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
    await enqueue_rows(db, outbox, outbox_rows(topic, events))


async def enqueue_rows(db: AsyncSession | AsyncConnection, outbox: Table, rows: list[dict]) -> None:
    """Add outbox rows (`outbox_rows`, `event_rows`) within the current transaction, and wake the relay."""
    if not rows:
        return
    await db.execute(text(_ENQUEUE.format(table=outbox.name)), {"rows": rows_json(rows), "channel": OUTBOX_CHANNEL})


def outbox_rows(topic: str, events: Sequence[tuple[CloudEvent, str]]) -> list[dict]:
    """The outbox rows of (event, key) pairs, as `enqueue` writes them (each payload is the event itself,
    serialized once, by `rows_json`)."""
    return [
        {"event_id": event.id, "topic": topic, "key": key, "event_type": event.type, "payload": event}
        for event, key in events
    ]


def event_rows(
    spec: EventSpec, items: Iterable[tuple[BaseModel, str | None, datetime | None]], *, source: str
) -> list[dict]:
    """The outbox rows of events of one type built by our own code, each item (data, province, time): the
    data models were validated when they were made, so no envelope is validated and nothing is dumped here;
    `rows_json` writes envelope and data in one pass. What a consumer reads is what `make_event` would have
    made of the same data (shared/tests/unit/test_event_rows.py)."""
    items = list(items)
    return [
        {
            "event_id": event_id,
            "topic": spec.topic,
            "key": spec.key(data),
            "event_type": spec.type,
            "payload": envelope_of(spec, data, event_id=event_id, source=source, province=province, time=at),
        }
        for event_id, (data, province, at) in zip(new_event_ids(len(items)), items, strict=True)
    ]


def rows_json(rows: list[dict[str, Any]]) -> str:
    """The rows as one JSON array, written by pydantic-core: models (the events, their data) as their
    `model_dump(mode="json")`, ids and times as their text, NaN and infinities as JSON has no such
    numbers (PostgreSQL refuses them, as it did json.dumps' NaN)."""
    return pydantic_core.to_json(rows, by_alias=False, inf_nan_mode="constants").decode("utf-8")


# The audit rows and the outbox rows of a unit of work's `together()` block in one statement: one round trip.
_AUDIT_AND_ENQUEUE = """
WITH audited AS (
    INSERT INTO {audit} (at, actor, action, subject, details)
    SELECT a.at, a.actor, a.action, a.subject, a.details
    FROM jsonb_to_recordset(CAST(:audit AS jsonb))
        AS a(at timestamptz, actor text, action text, subject text, details jsonb)
), added AS (
    INSERT INTO {outbox} (event_id, topic, key, event_type, payload, created_at)
    SELECT r.event_id, r.topic, r.key, r.event_type, r.payload, clock_timestamp()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(event_id uuid, topic text, key text, event_type text, payload jsonb)
)
SELECT CASE WHEN jsonb_array_length(CAST(:rows AS jsonb)) > 0 THEN pg_notify(:channel, '') END
"""


async def enqueue_with_audit(
    db: AsyncSession | AsyncConnection, outbox: Table, audit: Table, rows: list[dict], audit_rows: list[dict]
) -> None:
    """Add outbox rows (`outbox_rows`) and audit rows (at, actor, action, subject, details) within the current
    transaction in one statement, and wake the relay when there are events."""
    if not rows and not audit_rows:
        return
    await db.execute(
        text(_AUDIT_AND_ENQUEUE.format(audit=audit.name, outbox=outbox.name)),
        {
            "rows": rows_json(rows),
            "audit": json.dumps(audit_rows, ensure_ascii=False, default=_json_default),
            "channel": OUTBOX_CHANNEL,
        },
    )


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # a UUID, a Decimal: as their text


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
