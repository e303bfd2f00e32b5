"""The operators' view of one service's messaging (its replay of a dead letter is baocao_shared.dlq_replay).

`pipeline_status` tells what a service knows of its own pipeline: the outbox rows not sent yet (and
how long the oldest has waited); each consumer group's committed offset against the end of every
partition it reads (the lag); and each group's dead-letter topic `baocao.dlq.<group>`, with the
number of records and the latest few, their error, and whether an operator replayed them.

Every Kafka call is bounded by a timeout: an unreachable broker gives an answer with `kafka_error`
set, never a request that hangs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.topics import dlq_topic

log = structlog.get_logger(__name__)

LATEST = 5  # dead letters listed per group
TIMEOUT_S = 4.0  # for each reading of Kafka or the database; the status page waits a little longer
REPLAY_HEADER = "baocao.replay_of"  # on a replayed record: "<dlq topic>:<partition>:<offset>" of its dead letter
UNREACHABLE = (KafkaError, OSError, TimeoutError)


class OutboxBacklog(BaseModel):
    unsent: int | None = None
    oldest_unsent_at: datetime | None = None
    oldest_age_s: float | None = None
    error: str | None = None


class PartitionLag(BaseModel):
    topic: str
    partition: int
    committed: int | None = Field(description="the group's committed offset; None when it has committed none yet")
    end: int
    lag: int = Field(description="records between the committed offset (or the partition's start) and its end")


class GroupLag(BaseModel):
    group: str
    topics: list[str]
    lag: int | None = None
    partitions: list[PartitionLag] = []
    error: str | None = None


class DeadLetter(BaseModel):
    partition: int
    offset: int
    origin_topic: str | None
    origin_partition: int | None
    origin_offset: int | None
    error_type: str | None
    error: str | None = Field(description="the first line of the error")
    attempts: int | None
    event_type: str | None = Field(description="None when the record is not a readable event")
    event_id: uuid.UUID | None
    dead_lettered_at: datetime
    replayed_at: datetime | None = None
    replayed_by: str | None = None


class DeadLetterQueue(BaseModel):
    group: str
    topic: str
    records: int | None = None
    latest: list[DeadLetter] = []


class PipelineStatus(BaseModel):
    service: str
    outbox: OutboxBacklog
    consumers: list[GroupLag]
    dead_letters: list[DeadLetterQueue]
    kafka_error: str | None = None


def problem(exc: BaseException) -> str:
    """An exception in one line: its class and message (aiokafka's messages already name the class)."""
    text, name = str(exc).strip(), type(exc).__name__
    if isinstance(exc, TimeoutError) and not text:
        return "no answer in time"
    return (text if text.startswith(name) else f"{name}: {text}".rstrip(": ")).splitlines()[0][:300]


async def outbox_backlog(engine: AsyncEngine, outbox: Table, *, timeout_s: float = TIMEOUT_S) -> OutboxBacklog:
    """Rows not sent yet and the age of the oldest, by the database's clock (the one that stamped them)."""
    o = outbox.c
    query = select(func.count(), func.min(o.created_at), func.extract("epoch", func.now() - func.min(o.created_at)))
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as conn:
            unsent, oldest, age = (await conn.execute(query.where(o.sent_at.is_(None)))).one()
    except Exception as exc:  # the page shows what it could not read, whatever the reason
        return OutboxBacklog(error=f"database: {problem(exc)}")
    return OutboxBacklog(unsent=unsent, oldest_unsent_at=oldest, oldest_age_s=float(age) if age is not None else None)


@asynccontextmanager
async def kafka_reader(bootstrap_servers: str, timeout_s: float) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer outside any group, with fresh metadata; the body must finish within `timeout_s`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False, request_timeout_ms=5_000
    )
    try:
        async with asyncio.timeout(timeout_s):
            await consumer.start()
            await consumer._client.force_metadata_update()
            yield consumer
    finally:
        with suppress(Exception):
            await asyncio.wait_for(consumer.stop(), 2)


def partitions_of(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]


async def offsets(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> tuple[dict, dict]:
    """(beginning, end) offset of each partition."""
    if not tps:
        return {}, {}
    return await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)


async def read_ranges(consumer: AIOKafkaConsumer, starts: Mapping[TopicPartition, int], ends: Mapping) -> list:
    """The records from each partition's start offset up to (not including) its end offset."""
    wanted = {tp: start for tp, start in starts.items() if start < ends[tp]}
    if not wanted:
        return []
    consumer.assign(list(wanted))
    for tp, start in wanted.items():
        consumer.seek(tp, start)
    found: list[ConsumerRecord] = []
    while [tp for tp in wanted if await consumer.position(tp) < ends[tp]]:
        for tp, records in (await consumer.getmany(timeout_ms=200)).items():
            found.extend(r for r in records if r.offset < ends[tp])
    return found


def _number(text: str | None) -> int | None:
    return int(text) if text and text.lstrip("-").isdigit() else None


def dead_letter(record: ConsumerRecord) -> DeadLetter:
    """What a DLQ record says about itself: its origin and error (headers) and, if readable, its event."""
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or () if v is not None}
    try:
        event = CloudEvent.from_bytes(record.value) if record.value is not None else None
    except (ValueError, ValidationError):
        event = None
    error = headers.get("dlq.error", "").strip()
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        origin_topic=headers.get("dlq.origin_topic"),
        origin_partition=_number(headers.get("dlq.origin_partition")),
        origin_offset=_number(headers.get("dlq.origin_offset")),
        error_type=headers.get("dlq.error_type"),
        error=error.splitlines()[0][:300] if error else None,
        attempts=_number(headers.get("dlq.attempts")),
        event_type=event.type if event else None,
        event_id=event.id if event else None,
        dead_lettered_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
    )


async def group_lag(consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient, group: str, topics: list[str]) -> GroupLag:
    tps = partitions_of(consumer, topics)
    begins, ends = await offsets(consumer, tps)
    try:
        committed = await admin.list_consumer_group_offsets(group)
    except KafkaError as exc:  # e.g. the group's coordinator is not elected yet: the other groups still count
        return GroupLag(group=group, topics=topics, error=f"committed offsets unknown: {problem(exc)}")
    rows = []
    for tp in tps:
        found = committed.get(tp)
        done = found.offset if found is not None and found.offset >= 0 else None
        # A group without a committed offset starts at the beginning (auto_offset_reset="earliest").
        lag = max(0, ends[tp] - (begins[tp] if done is None else done))
        rows.append(PartitionLag(topic=tp.topic, partition=tp.partition, committed=done, end=ends[tp], lag=lag))
    return GroupLag(group=group, topics=topics, lag=sum(r.lag for r in rows), partitions=rows)


async def dead_letter_queues(consumer: AIOKafkaConsumer, groups: Sequence[str], latest: int) -> list[DeadLetterQueue]:
    topics = [dlq_topic(g) for g in groups]
    tps = partitions_of(consumer, topics)
    begins, ends = await offsets(consumer, tps)
    records = await read_ranges(consumer, {tp: max(begins[tp], ends[tp] - latest) for tp in tps}, ends)
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset), reverse=True)
    return [
        DeadLetterQueue(
            group=group,
            topic=topic,
            records=sum(ends[tp] - begins[tp] for tp in tps if tp.topic == topic),
            latest=[dead_letter(r) for r in records if r.topic == topic][:latest],
        )
        for group, topic in zip(groups, topics, strict=True)
    ]


async def mark_replayed(engine: AsyncEngine, replays: Table, queues: list[DeadLetterQueue]) -> list[DeadLetterQueue]:
    keys = [(q.group, d.partition, d.offset) for q in queues for d in q.latest]
    if not keys:
        return queues
    c = replays.c
    query = select(c.consumer_group, c.dlq_partition, c.dlq_offset, c.replayed_at, c.replayed_by).where(
        tuple_(c.consumer_group, c.dlq_partition, c.dlq_offset).in_(keys)
    )
    async with asyncio.timeout(TIMEOUT_S), engine.connect() as conn:
        done = {(r[0], r[1], r[2]): {"replayed_at": r[3], "replayed_by": r[4]} for r in await conn.execute(query)}
    return [
        q.model_copy(
            update={"latest": [d.model_copy(update=done.get((q.group, d.partition, d.offset), {})) for d in q.latest]}
        )
        for q in queues
    ]


async def pipeline_status(
    *,
    service: str,
    engine: AsyncEngine,
    outbox: Table,
    replays: Table,
    bootstrap_servers: str,
    groups: Mapping[str, list[str]],
    latest: int = LATEST,
    timeout_s: float = TIMEOUT_S,
) -> PipelineStatus:
    """Outbox backlog, lag per group and partition, and dead letters; what Kafka did not answer is left empty."""

    async def from_kafka() -> tuple[list[GroupLag], list[DeadLetterQueue]]:
        async with kafka_reader(bootstrap_servers, timeout_s) as consumer:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5_000)
            try:
                await admin.start()
                lags = [await group_lag(consumer, admin, g, topics) for g, topics in groups.items()]
            finally:
                with suppress(Exception):
                    await asyncio.wait_for(admin.close(), 2)
            return lags, await dead_letter_queues(consumer, list(groups), latest)

    backlog, kafka = await asyncio.gather(  # Kafka's part, its clients' closing included, within timeout_s
        outbox_backlog(engine, outbox, timeout_s=timeout_s),
        asyncio.wait_for(from_kafka(), timeout_s),
        return_exceptions=True,
    )
    if isinstance(kafka, BaseException):
        if not isinstance(kafka, UNREACHABLE):
            raise kafka
        log.warning("ops.kafka_unreadable", error=problem(kafka))
        lags = [GroupLag(group=g, topics=topics) for g, topics in groups.items()]
        return PipelineStatus(
            service=service,
            outbox=backlog,
            consumers=lags,
            dead_letters=[DeadLetterQueue(group=g, topic=dlq_topic(g)) for g in groups],
            kafka_error=f"Kafka: {problem(kafka)}",
        )
    lags, queues = kafka
    with suppress(Exception):  # without the replay log, the dead letters are still worth showing
        queues = await mark_replayed(engine, replays, queues)
    return PipelineStatus(service=service, outbox=backlog, consumers=lags, dead_letters=queues)
