"""Replay topics from the beginning into a service's database: the rebuild of a projection.

Reads every partition of the given topics from offset 0 to the end it had when the replay began,
with no consumer group (nothing is committed), and applies each record with the same handlers and
the same inbox rule as live consumption. Records that are not events, or that a handler refuses,
are counted and skipped: they already went to the dead-letter topic when they were live.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.messaging.consumer import Handler

log = structlog.get_logger(__name__)


@dataclass
class ReplayOutcome:
    records: int = 0
    applied: int = 0
    skipped: int = 0
    seconds: float = 0.0


async def replay(
    *,
    bootstrap_servers: str,
    topics: list[str],
    handlers: Mapping[str, Handler],
    sessionmaker: async_sessionmaker,
    inbox: Table,
    group_label: str,
    batch_size: int = 500,
) -> ReplayOutcome:
    outcome = ReplayOutcome()
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, max_poll_records=batch_size
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                records = [r for r in records if r.offset < ends[tp]]
                outcome.records += len(records)
                async with sessionmaker() as session, session.begin():
                    for record in records:
                        applied = await _apply(session, record, handlers, inbox, group_label)
                        outcome.applied += applied is True
                        outcome.skipped += applied is None
    finally:
        await consumer.stop()
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _apply(session, record, handlers, inbox: Table, group_label: str) -> bool | None:
    """True when applied, False when a duplicate or of a type nobody here handles, None when refused."""
    try:
        event = CloudEvent.from_bytes(record.value)
    except (ValueError, ValidationError):
        return None
    handler = handlers.get(event.type)
    if handler is None:
        return False
    inserted = await session.execute(
        insert(inbox)
        .values(consumer_group=group_label, event_id=event.id, event_type=event.type)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    if inserted.first() is None:
        return False
    try:
        async with session.begin_nested():
            await handler(session, event)
    except (ValidationError, ValueError) as exc:
        log.warning("replay.skipped", topic=record.topic, offset=record.offset, error=str(exc)[:300])
        return None
    return True
