"""The replay of a dead-lettered record, once its cause is fixed (POST /v1/ops/dlq/{group}/replay).

`replay_dead_letter` sends the record back to the partition it came from. Every group reading that topic sees it
again: the groups that applied it skip it through their inbox (same event id), and the group that failed applies
it now. The row written to `dlq_replays` in the transaction around the send makes a second replay of the record a
409. An unreachable broker is a 503, never a request that hangs.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, Field
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from baocao_shared.errors import Conflict, NotFound, Unavailable, Unprocessable
from baocao_shared.events.topics import dlq_topic
from baocao_shared.messaging.consumer import VALUE_OMITTED
from baocao_shared.messaging.headers import upgraded
from baocao_shared.ops import (
    REPLAY_HEADER,
    TIMEOUT_S,
    UNREACHABLE,
    dead_letter,
    kafka_reader,
    offsets,
    partitions_of,
    problem,
    read_ranges,
)

log = structlog.get_logger(__name__)


class KafkaUnavailable(Unavailable):
    code = "kafka_unavailable"


class ReplayIn(BaseModel):
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class Replayed(BaseModel):
    group: str
    partition: int
    offset: int
    origin_topic: str
    origin_partition: int
    replayed_to_offset: int
    event_type: str | None
    event_id: uuid.UUID | None
    replayed_by: str
    replayed_at: datetime


async def record_at(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> ConsumerRecord:
    begins, ends = await offsets(consumer, partitions_of(consumer, [tp.topic]))
    if tp not in ends or not begins[tp] <= offset < ends[tp]:
        raise NotFound(f"{tp.topic} has no record at partition {tp.partition}, offset {offset}.")
    [record] = await read_ranges(consumer, {tp: offset}, {tp: offset + 1})
    return record


def replay_headers(record: ConsumerRecord, by: str) -> list[tuple[str, bytes]]:
    """The record's own headers without the dead-letter ones (an old record's in the current scheme: see
    `messaging.headers`), and where the replay comes from."""
    kept = [(k, v) for k, v in upgraded(record.headers) if not k.startswith("dlq.")]
    origin = f"{record.topic}:{record.partition}:{record.offset}"
    return [*kept, (REPLAY_HEADER, origin.encode()), ("baocao.replayed_by", by.encode())]


async def replay_dead_letter(
    *,
    engine: AsyncEngine,
    replays: Table,
    producer: AIOKafkaProducer | None,
    bootstrap_servers: str,
    group: str,
    partition: int,
    offset: int,
    by: str,
    timeout_s: float = TIMEOUT_S,
) -> Replayed:
    """Send one dead letter back to its origin partition, once: a second replay is a Conflict."""
    if producer is None:
        raise KafkaUnavailable("The service has not reached Kafka yet; try again shortly.")
    try:
        async with kafka_reader(bootstrap_servers, timeout_s) as consumer:
            record = await record_at(consumer, TopicPartition(dlq_topic(group), partition), offset)
    except UNREACHABLE as exc:
        raise KafkaUnavailable(f"Kafka did not answer: {problem(exc)}") from exc
    letter = dead_letter(record)
    if letter.origin_topic is None or letter.origin_partition is None or letter.origin_offset is None:
        raise Unprocessable("This dead letter does not say where it came from, so it cannot be replayed.")
    omitted = dict(record.headers or ()).get(VALUE_OMITTED)
    if omitted is not None:
        raise Unprocessable(
            f"This record ({omitted.decode()} bytes) was too large to keep in the dead-letter queue; it is still "
            f"at {letter.origin_topic}, partition {letter.origin_partition}, offset {letter.origin_offset}, "
            "and cannot be sent back from here."
        )
    c = replays.c
    this = (c.consumer_group == group) & (c.dlq_partition == partition) & (c.dlq_offset == offset)
    async with engine.begin() as conn:
        claimed = await conn.execute(
            insert(replays)
            .values(
                consumer_group=group,
                dlq_partition=partition,
                dlq_offset=offset,
                origin_topic=letter.origin_topic,
                origin_partition=letter.origin_partition,
                origin_offset=letter.origin_offset,
                event_id=letter.event_id,
                event_type=letter.event_type,
                replayed_by=by,
            )
            .on_conflict_do_nothing()
            .returning(c.replayed_at)
        )
        replayed_at = claimed.scalar()
        if replayed_at is None:
            earlier = (await conn.execute(select(c.replayed_by, c.replayed_at).where(this))).one()
            raise Conflict(
                f"This record was already replayed by {earlier.replayed_by} at "
                f"{earlier.replayed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; it is not sent a second time.",
                {"replayed_by": earlier.replayed_by, "replayed_at": earlier.replayed_at.isoformat()},
            )
        try:
            sent = await asyncio.wait_for(
                producer.send_and_wait(
                    letter.origin_topic,
                    value=record.value,
                    key=record.key,
                    partition=letter.origin_partition,
                    headers=replay_headers(record, by),
                ),
                timeout_s,
            )
        except UNREACHABLE as exc:  # the transaction rolls back: the record stays replayable
            raise KafkaUnavailable(f"Kafka did not take the record: {problem(exc)}") from exc
        await conn.execute(update(replays).where(this).values(replayed_to_offset=sent.offset))
    log.info("dlq.replayed", group=group, partition=partition, offset=offset, event_id=str(letter.event_id), by=by)
    return Replayed(
        group=group,
        partition=partition,
        offset=offset,
        origin_topic=letter.origin_topic,
        origin_partition=letter.origin_partition,
        replayed_to_offset=sent.offset,
        event_type=letter.event_type,
        event_id=letter.event_id,
        replayed_by=by,
        replayed_at=replayed_at,
    )
