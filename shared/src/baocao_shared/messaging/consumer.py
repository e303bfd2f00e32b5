"""The consumer runner: apply each event once, commit the offset after, dead-letter poison.

Per record, in one DB transaction: insert the event id into the inbox (a duplicate is skipped)
and apply the handler. A fetched batch of a partition whose events all have handlers that apply
runs (`typed_handler(..., many=...)`), or no handler here, goes in one transaction instead
(`apply_together`); if that fails, it is applied again record by record. Offsets are committed
only after the transaction commits. A record that
cannot be parsed, or whose handler fails `max_attempts` times, goes to `baocao.dlq.<group>` with
the error and its origin in headers, and the partition moves on. A record of a type the group has
no handler for (another group's, or a version it does not know yet) is skipped, counted as
`ignored`, and is not poison. A record as large as the broker takes has no room left for those
headers: its dead letter goes without the value (header `dlq.value_omitted`), which stays
readable at its origin, rather than stalling the partition.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import EVENTS, parse_data
from baocao_shared.events.topics import dlq_topic
from baocao_shared.faults import fault_point
from baocao_shared.messaging.headers import event_type_of
from baocao_shared.metrics import DLQ_SENT, EVENTS_CONSUMED, HANDLER_SECONDS

log = structlog.get_logger(__name__)

VALUE_OMITTED = "dlq.value_omitted"  # on a dead letter whose value was too large to copy: the value's size

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
# Applies a run of events at once: their typed data, in the order of the partition.
ManyUseCase = Callable[[AsyncSession, list[Any]], Awaitable[None]]


def typed_handler(
    use_case: Callable[[Any, Any], Awaitable[None]],
    *,
    many: Callable[[Any, list[Any]], Awaitable[None]] | None = None,
    uow: Callable[[AsyncSession], Any] | None = None,
) -> Handler:
    """Adapt a use case that takes the event's typed data into a consumer handler.

    With `uow` (a service's UnitOfWork class), the use case gets one built on the consumer's session, whose
    transaction the consumer owns (it commits the effect with the inbox row); without it, the session itself.

    `many`, when given, must leave the same state as `use_case` applied to each event of the run in
    turn; a batch applies consecutive events whose handlers share one `many` with one call of it
    (`handler.many`), and falls back to `use_case` one by one when that call fails."""
    wrap = uow or _session_itself

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        await use_case(wrap(session), parse_data(event))

    handle.__name__ = getattr(use_case, "__name__", "handle")
    handle.many = None if many is None else _many_on(many, wrap)  # type: ignore[attr-defined]
    return handle


def _session_itself(session: AsyncSession) -> AsyncSession:
    return session


@functools.cache
def _many_on(many: Callable[[Any, list[Any]], Awaitable[None]], wrap: Callable[[AsyncSession], Any]) -> ManyUseCase:
    """One adapted `many` per use case and wrapper: handlers that share a `many` share its adapter, which is
    how a batch knows that their events form one run."""

    async def apply(session: AsyncSession, items: list[Any]) -> None:
        await many(wrap(session), items)

    apply.__name__ = getattr(many, "__name__", "apply")
    return apply


@dataclass(frozen=True)
class Parsed:
    """A record and what it holds: its event (None when it is not one) and, for an event whose
    handler applies runs, its typed data when it was read in the same pass (None otherwise)."""

    record: ConsumerRecord
    event: CloudEvent | None
    data: BaseModel | None = None


def parse_record(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> Parsed:
    """The record's event. When its type header (`baocao.type`, or an old record's `ce_type`) names a type whose
    handler applies runs, the envelope and the typed data are read in one pass; anything unexpected there falls
    back to the envelope alone (the data is then checked when the event is applied, as live)."""
    typed = _typed_envelope(record, handlers)
    if typed is not None:
        return Parsed(record, typed, typed.data)
    try:
        return Parsed(record, CloudEvent.from_bytes(record.value))
    except (ValueError, ValidationError):
        return Parsed(record, None)


def _typed_envelope(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> CloudEvent | None:
    event_type = event_type_of(record.headers)
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


async def apply_together(
    session, batch: Sequence[Parsed], handlers: Mapping[str, Handler], inbox: Table, group_label: str
) -> list[bool | None]:
    """Apply a partition's batch in the caller's transaction: one inbox insert for its events (the
    duplicates fall out), then each run of consecutive events whose handlers share a `many` use case
    in one call of it, the others one by one. Per record: True applied, False a duplicate or of a type
    nobody here handles, None not an event. Raises what a handler raises: the caller rolls back and
    goes record by record."""
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


class PoisonRecord(Exception):
    """A record no retry can fix: not an event, or data that breaks its schema."""


# Connection errors the OS raises as a plain OSError: the host's name does not resolve (a restarting
# container's DNS name), or no route to it.
_UNREACHABLE_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN})
# PostgreSQL's SQLSTATEs of a server that is unreachable, shutting down or starting up (class 08, 57P01-03).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
# How long an event waits for an unreachable database before it is dead-lettered all the same (replayable
# from the DLQ): a misjudged error must not hold its partition for ever.
MAX_OUTAGE_S = 600.0


def database_unavailable(error: BaseException | None) -> bool:
    """True when `error` says the database cannot be reached, not that the event is wrong: the event
    is retried until the database is back (up to MAX_OUTAGE_S), not dead-lettered for it.

    Follows what the error wraps (`orig`, `__cause__`), never `__context__`: an error raised while
    another was being handled is judged by itself."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionError | TimeoutError | socket.gaierror):
            return True
        if type(error) is OSError and (
            error.errno in _UNREACHABLE_ERRNOS or str(error).startswith("Multiple exceptions:")
        ):  # asyncio's connect to every address of a name, all failed
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, asyncpg.exceptions.ConnectionDoesNotExistError):  # closed mid-operation
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False


def _stop_unless_unavailable(max_attempts: int, max_outage_s: float = MAX_OUTAGE_S) -> Callable[[RetryCallState], bool]:
    """Stop after `max_attempts` failures of the event's own; failures against an unavailable database
    do not count, until they have lasted `max_outage_s`. One per event: it counts that event's failures."""
    failures = 0

    def stop(state: RetryCallState) -> bool:
        nonlocal failures
        if database_unavailable(state.outcome.exception()):
            return (state.seconds_since_start or 0.0) >= max_outage_s
        failures += 1
        return failures >= max_attempts

    return stop


class _CommitOnRevoke(ConsumerRebalanceListener):
    """aiokafka's documented pattern: finish the batch and commit before giving partitions up."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked) -> None:
        async with self._runner._batch_lock:
            await self._runner._commit_processed()

    async def on_partitions_assigned(self, assigned) -> None:
        log.info(
            "consumer.assigned",
            group=self._runner.group_id,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )


class ConsumerRunner:
    def __init__(
        self,
        *,
        group_id: str,
        topics: list[str],
        handlers: Mapping[str, Handler],
        sessionmaker: async_sessionmaker,
        inbox: Table,
        bootstrap_servers: str,
        producer: AIOKafkaProducer,
        max_attempts: int = 3,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 5.0,
    ) -> None:
        self.group_id = group_id
        self._topics = topics
        self._handlers = dict(handlers)
        self._sessionmaker = sessionmaker
        self._inbox = inbox
        self._bootstrap = bootstrap_servers
        self._producer = producer
        self._max_attempts = max_attempts
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._batch_lock = asyncio.Lock()
        self._processed: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member holds right now."""
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    async def run(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self._consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
        await self._consumer.start()
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=500)
                async with self._batch_lock:
                    for records in batches.values():
                        if not await self._apply_together(records):
                            for record in records:
                                await self._process(record)
                    await self._commit_processed()
        finally:
            await self._consumer.stop()

    async def _commit_processed(self) -> None:
        if not self._processed or self._consumer is None:
            return
        offsets, self._processed = self._processed, {}
        await self._consumer.commit(offsets)

    async def _apply_together(self, records: list[ConsumerRecord]) -> bool:
        """A partition's records in one transaction, when each is an event whose handler applies runs
        (`many`) or that nobody here handles. False, with nothing applied, otherwise or when anything
        in it fails: the caller then goes record by record, with retries and dead letters."""
        batch = [parse_record(record, self._handlers) for record in records]
        if len(batch) < 2 or not all(p.event is not None and self._runs_together(p.event.type) for p in batch):
            return False
        started = time.perf_counter()
        try:
            async with self._sessionmaker() as session, session.begin():
                results = await apply_together(session, batch, self._handlers, self._inbox, self.group_id)
        except Exception as exc:  # the record-by-record pass retries it or dead-letters the event at fault
            log.info("consumer.batch_split", group=self.group_id, records=len(batch), error=repr(exc)[:300])
            return False
        applied = results.count(True)
        for _ in range(applied):
            HANDLER_SECONDS.labels(self.group_id).observe((time.perf_counter() - started) / applied)
        fault_point("consumer.after_db_commit")
        for p, result in zip(batch, results, strict=True):
            outcome = "applied" if result else "duplicate" if p.event.type in self._handlers else "ignored"
            EVENTS_CONSUMED.labels(self.group_id, outcome).inc()
            if outcome == "duplicate":
                log.info("consumer.duplicate_skipped", event_id=str(p.event.id), group=self.group_id)
        last = records[-1]
        self._processed[TopicPartition(last.topic, last.partition)] = last.offset + 1
        return True

    def _runs_together(self, event_type: str) -> bool:
        handler = self._handlers.get(event_type)
        return handler is None or getattr(handler, "many", None) is not None

    async def _process(self, record: ConsumerRecord) -> None:
        tp = TopicPartition(record.topic, record.partition)
        try:
            event = self._parse(record)
            handler = self._handlers.get(event.type)
            if handler is None:
                EVENTS_CONSUMED.labels(self.group_id, "ignored").inc()
            else:
                await self._apply_with_retries(handler, event)
        except PoisonRecord as exc:
            await self._dead_letter(record, exc, attempts=1)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            await self._dead_letter(record, cause, attempts=self._max_attempts)
        self._processed[tp] = record.offset + 1

    @staticmethod
    def _parse(record: ConsumerRecord) -> CloudEvent:
        try:
            return CloudEvent.from_bytes(record.value)
        except (ValueError, ValidationError) as exc:
            raise PoisonRecord(f"not a CloudEvent: {exc}") from exc

    async def _apply_with_retries(self, handler: Handler, event: CloudEvent) -> None:
        bound = log.bind(
            event_id=str(event.id),
            event_type=event.type,
            correlation_id=event.correlationid,
            province=event.province,
            group=self.group_id,
        )
        retrying = AsyncRetrying(
            stop=_stop_unless_unavailable(self._max_attempts),
            wait=wait_exponential_jitter(
                multiplier=self._retry_initial_s, max=self._retry_max_s, jitter=self._retry_initial_s
            ),
            # Errors only: tenacity's attempt catches BaseException, and a CancelledError (the service stopping)
            # retried would be swallowed - the consumer went on and the stop waited its 10 s out.
            retry=retry_if_exception_type(Exception) & retry_if_not_exception_type(PoisonRecord),
        )
        async for attempt in retrying:
            with attempt:
                try:
                    applied = await self._apply_once(handler, event)
                except (ValidationError, PoisonRecord) as exc:
                    raise PoisonRecord(f"invalid {event.type} data: {exc}") from exc
                except Exception as exc:
                    bound.warning(
                        "consumer.attempt_failed", error=repr(exc), attempt=attempt.retry_state.attempt_number
                    )
                    raise
        EVENTS_CONSUMED.labels(self.group_id, "applied" if applied else "duplicate").inc()
        if not applied:
            bound.info("consumer.duplicate_skipped")

    async def _apply_once(self, handler: Handler, event: CloudEvent) -> bool:
        started = time.perf_counter()
        async with self._sessionmaker() as session, session.begin():
            inserted = await session.execute(
                insert(self._inbox)
                .values(consumer_group=self.group_id, event_id=event.id, event_type=event.type)
                .on_conflict_do_nothing()
                .returning(self._inbox.c.event_id)
            )
            if inserted.first() is None:
                return False
            await handler(session, event)
        HANDLER_SECONDS.labels(self.group_id).observe(time.perf_counter() - started)
        fault_point("consumer.after_db_commit")
        return True

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException | None, *, attempts: int) -> None:
        detail = "".join(traceback.format_exception_only(error)).strip() if error else "unknown"
        headers = [
            *(record.headers or []),
            ("dlq.error", detail[:4000].encode("utf-8", "replace")),
            ("dlq.error_type", type(error).__name__.encode()),
            ("dlq.origin_topic", record.topic.encode()),
            ("dlq.origin_partition", str(record.partition).encode()),
            ("dlq.origin_offset", str(record.offset).encode()),
            ("dlq.consumer_group", self.group_id.encode()),
            ("dlq.attempts", str(attempts).encode()),
        ]
        try:
            await self._producer.send_and_wait(
                dlq_topic(self.group_id), value=record.value, key=record.key, headers=headers
            )
        except (MessageSizeTooLargeError, RecordListTooLargeError):
            # The origin took the record at its size limit; with the headers the copy is over it.
            omitted = [*headers, (VALUE_OMITTED, str(len(record.value or b"")).encode())]
            await self._producer.send_and_wait(dlq_topic(self.group_id), value=None, key=record.key, headers=omitted)
        DLQ_SENT.labels(self.group_id).inc()
        EVENTS_CONSUMED.labels(self.group_id, "dead_lettered").inc()
        log.error(
            "consumer.dead_lettered",
            group=self.group_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=detail[:500],
        )
