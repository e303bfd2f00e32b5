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
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import structlog
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.messaging.batches import Parsed, apply_together, parse_record
from baocao_shared.messaging.handlers import Handler
from baocao_shared.messaging.history import read_history

log = structlog.get_logger(__name__)

READ_AHEAD = 4  # parsed batches waiting for the database at most


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
    batch_size: int = 2000,
    progress: Callable[[ReplayOutcome], None] | None = None,
) -> ReplayOutcome:
    """`progress`, when given, is called with the running outcome after each applied batch."""
    outcome = ReplayOutcome()
    started = time.perf_counter()
    ready: asyncio.Queue[list[Parsed] | Exception | None] = asyncio.Queue(maxsize=READ_AHEAD)

    async def read_ahead() -> None:
        try:
            # Closed on leaving, also when cancelled while waiting to hand a batch over: its consumer stops now.
            async with aclosing(read_history(bootstrap_servers, topics, max_records=batch_size)) as batches:
                async for _, records in batches:
                    await ready.put([parse_record(r, handlers) for r in records])
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
            if progress is not None:
                progress(outcome)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    outcome.seconds = time.perf_counter() - started
    return outcome


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
            return await apply_together(session, batch, handlers, inbox, group_label)
    except Exception as exc:  # the one-by-one pass below raises it again if it is not the events' own
        log.info("replay.batch_split", records=len(batch), error=repr(exc)[:300])
    async with sessionmaker() as session, session.begin():
        return [await _apply(session, p.record, handlers, inbox, group_label) for p in batch]


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
