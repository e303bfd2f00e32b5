"""Replay topics from the beginning into a service's database: the rebuild of a projection.

Reads every partition of the given topics from offset 0 to the end it had when the replay began,
with no consumer group (nothing is committed), and applies each record with the same handlers and
the same inbox rule as live consumption. Records that are not events, or that a handler refuses,
are counted and skipped: they already went to the dead-letter topic when they were live.

Each fetched batch of a partition is applied in one transaction: one inbox insert for all its events
(the duplicates fall out), then each run of consecutive events whose handlers share a `many` use case
in one call of it, the others one by one. When anything in that fails, the batch is rolled back and
applied again record by record, each handler under a savepoint, which isolates the poison. Batches
are applied in the order they were read, one at a time; the next ones are fetched and parsed while
the database works on the current one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import EVENTS, parse_data
from baocao_shared.messaging.consumer import Handler

log = structlog.get_logger(__name__)

READ_AHEAD = 4  # parsed batches waiting for the database at most


@dataclass
class ReplayOutcome:
    records: int = 0
    applied: int = 0
    skipped: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Parsed:
    """A record and what it holds: its event (None when it is not one) and, for an event whose
    handler applies runs, its typed data when it was read in the same pass (None otherwise)."""

    record: ConsumerRecord
    event: CloudEvent | None
    data: BaseModel | None = None


async def replay(
    *,
    bootstrap_servers: str,
    topics: list[str],
    handlers: Mapping[str, Handler],
    sessionmaker: async_sessionmaker,
    inbox: Table,
    group_label: str,
    batch_size: int = 2000,
) -> ReplayOutcome:
    outcome = ReplayOutcome()
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, max_poll_records=batch_size
    )
    await consumer.start()
    ready: asyncio.Queue[list[Parsed] | Exception | None] = asyncio.Queue(maxsize=READ_AHEAD)

    async def read_ahead() -> None:
        try:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    await ready.put([parse_record(r, handlers) for r in records if r.offset < ends[tp]])
            await ready.put(None)
        except Exception as exc:  # handed to the applying side, which raises it
            await ready.put(exc)

    reader = asyncio.create_task(read_ahead())
    try:
        while (batch := await ready.get()) is not None:
            if isinstance(batch, Exception):
                raise batch
            outcome.records += len(batch)
            results = await apply_batch(sessionmaker, batch, handlers, inbox, group_label)
            outcome.applied += results.count(True)
            outcome.skipped += results.count(None)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await consumer.stop()
    outcome.seconds = time.perf_counter() - started
    return outcome


def parse_record(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> Parsed:
    """The record's event. When its `ce_type` header names a type whose handler applies runs, the
    envelope and the typed data are read in one pass; anything unexpected there falls back to the
    envelope alone (the data is then checked when the event is applied, as live)."""
    typed = _typed_envelope(record, handlers)
    if typed is not None:
        return Parsed(record, typed, typed.data)
    try:
        return Parsed(record, CloudEvent.from_bytes(record.value))
    except (ValueError, ValidationError):
        return Parsed(record, None)


def _typed_envelope(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> CloudEvent | None:
    event_type = None
    for name, value in record.headers or ():
        if name == "ce_type":
            event_type = value.decode("utf-8", "replace")
    if event_type not in EVENTS or getattr(handlers.get(event_type), "many", None) is None:
        return None
    try:
        event = _envelope_of(EVENTS[event_type].model).model_validate_json(record.value or b"")
    except (ValueError, ValidationError):
        return None
    return event if event.type == event_type else None


@functools.cache
def _envelope_of(model: type[BaseModel]) -> type[CloudEvent]:
    """A CloudEvent whose `data` is read straight into `model`."""
    return create_model(f"{model.__name__}Event", __base__=CloudEvent, data=(model, ...))


async def apply_batch(
    sessionmaker: async_sessionmaker,
    batch: Sequence[Parsed],
    handlers: Mapping[str, Handler],
    inbox: Table,
    group_label: str,
) -> list[bool | None]:
    """Apply the records of one partition, in order, in one transaction; per record, as `_apply` says."""
    try:
        async with sessionmaker() as session, session.begin():
            return await _apply_together(session, batch, handlers, inbox, group_label)
    except Exception as exc:  # the one-by-one pass below raises it again if it is not the events' own
        log.info("replay.batch_split", records=len(batch), error=repr(exc)[:300])
    async with sessionmaker() as session, session.begin():
        return [await _apply(session, p.record, handlers, inbox, group_label) for p in batch]


async def _apply_together(
    session, batch: Sequence[Parsed], handlers: Mapping[str, Handler], inbox: Table, group_label: str
) -> list[bool | None]:
    results: list[bool | None] = [None if p.event is None else False for p in batch]
    first: dict[Any, int] = {}  # event id -> where its first delivery is in the batch
    for i, p in enumerate(batch):
        if p.event is not None and p.event.type in handlers:
            first.setdefault(p.event.id, i)
    if not first:
        return results
    rows = {"group": group_label, "ids": list(first), "types": [batch[i].event.type for i in first.values()]}
    new = set((await session.execute(_inbox_insert(inbox), rows)).scalars())
    fresh = [i for event_id, i in first.items() if event_id in new]
    for run in _runs([batch[i] for i in fresh], handlers):
        many = getattr(handlers[run[0].event.type], "many", None)
        if many is not None:
            await many(session, [p.data if p.data is not None else parse_data(p.event) for p in run])
        else:
            for p in run:
                await handlers[p.event.type](session, p.event)
    for i in fresh:
        results[i] = True
    return results


@functools.cache
def _inbox_insert(inbox: Table):
    """The inbox rows of many events in one statement of one shape (arrays, not a VALUES row per
    event: PostgreSQL plans it once), returning the ids that were not there yet."""
    rows = select(
        bindparam("group", type_=inbox.c.consumer_group.type),
        func.unnest(bindparam("ids", type_=ARRAY(inbox.c.event_id.type))),
        func.unnest(bindparam("types", type_=ARRAY(inbox.c.event_type.type))),
    )
    return (
        insert(inbox)
        .from_select(["consumer_group", "event_id", "event_type"], rows)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )


def _runs(batch: list[Parsed], handlers: Mapping[str, Handler]) -> list[list[Parsed]]:
    """Consecutive events whose handlers share one `many` use case go together; the others alone."""
    runs: list[list[Parsed]] = []
    for p in batch:
        many = getattr(handlers[p.event.type], "many", None)
        if runs and many is not None and getattr(handlers[runs[-1][0].event.type], "many", None) is many:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


async def _apply(session, record: ConsumerRecord, handlers, inbox: Table, group_label: str) -> bool | None:
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
