"""Replay topics from the beginning into a service's database: the rebuild of a projection.

Reads every partition of the given topics from offset 0 to the end it had when the replay began,
with no consumer group (nothing is committed), and applies each record with the same handlers and
the same inbox rule as live consumption. Records that are not events, or that a handler refuses,
are counted and skipped: they already went to the dead-letter topic when they were live.

Each fetched batch of a partition is applied in one transaction: one inbox insert for all its events
(the duplicates fall out), then each run of consecutive events whose handlers share a `many` use case
in one call of it, the others one by one. When anything in that fails, the batch is rolled back and
applied again record by record, each handler under a savepoint, which isolates the poison.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import parse_data
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
                results = await apply_batch(sessionmaker, records, handlers, inbox, group_label)
                outcome.applied += results.count(True)
                outcome.skipped += results.count(None)
    finally:
        await consumer.stop()
    outcome.seconds = time.perf_counter() - started
    return outcome


async def apply_batch(
    sessionmaker: async_sessionmaker,
    records: Sequence[ConsumerRecord],
    handlers: Mapping[str, Handler],
    inbox: Table,
    group_label: str,
) -> list[bool | None]:
    """Apply records of one partition, in order, in one transaction; for each record, as `_apply` says."""
    events = [_parse(record) for record in records]
    try:
        async with sessionmaker() as session, session.begin():
            return await _apply_together(session, events, handlers, inbox, group_label)
    except Exception as exc:  # the one-by-one pass below raises it again if it is not the events' own
        log.info("replay.batch_split", records=len(records), error=repr(exc)[:300])
    async with sessionmaker() as session, session.begin():
        return [
            await _apply(session, record, event, handlers, inbox, group_label)
            for record, event in zip(records, events, strict=True)
        ]


def _parse(record: ConsumerRecord) -> CloudEvent | None:
    try:
        return CloudEvent.from_bytes(record.value)
    except (ValueError, ValidationError):
        return None


async def _apply_together(session, events, handlers, inbox: Table, group_label: str) -> list[bool | None]:
    results: list[bool | None] = [None if e is None else False for e in events]
    first: dict = {}  # event id -> the index of its first delivery in the batch
    for i, event in enumerate(events):
        if event is not None and event.type in handlers:
            first.setdefault(event.id, i)
    if not first:
        return results
    stmt = insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    rows = [
        {"consumer_group": group_label, "event_id": e_id, "event_type": events[i].type} for e_id, i in first.items()
    ]
    new = set((await session.execute(stmt, rows)).scalars())
    fresh = [i for e_id, i in first.items() if e_id in new]
    for run in _runs([events[i] for i in fresh], handlers):
        many = getattr(handlers[run[0].type], "many", None)
        if many is not None:
            await many(session, [parse_data(e) for e in run])
        else:
            for event in run:
                await handlers[event.type](session, event)
    for i in fresh:
        results[i] = True
    return results


def _runs(events: list[CloudEvent], handlers: Mapping[str, Handler]) -> list[list[CloudEvent]]:
    """Consecutive events whose handlers share one `many` use case go together; the others alone."""
    runs: list[list[CloudEvent]] = []
    for event in events:
        many = getattr(handlers[event.type], "many", None)
        if runs and many is not None and getattr(handlers[runs[-1][0].type], "many", None) is many:
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


async def _apply(session, record, event, handlers, inbox: Table, group_label: str) -> bool | None:
    """True when applied, False when a duplicate or of a type nobody here handles, None when refused."""
    if event is None:
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
