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
import socket
import time
import traceback
from collections.abc import Callable, Mapping

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    retry_if_not_exception_type,
    wait_exponential_jitter,
)

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.topics import DEAD_LETTER_MAX_BYTES, dlq_topic
from baocao_shared.faults import fault_point
from baocao_shared.messaging.batches import Parsed, apply_together, parse_record
from baocao_shared.messaging.handlers import Handler
from baocao_shared.metrics import DLQ_SENT, EVENTS_CONSUMED, HANDLER_SECONDS

log = structlog.get_logger(__name__)

VALUE_OMITTED = "dlq.value_omitted"  # on a dead letter whose value was too large to copy: the value's size


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
                        batch = [parse_record(record, self._handlers) for record in records]  # each read once
                        if not await self._apply_together(records, batch):
                            for parsed in batch:
                                await self._process(parsed)
                    await self._commit_processed()
        finally:
            await self._consumer.stop()

    async def _commit_processed(self) -> None:
        if not self._processed or self._consumer is None:
            return
        offsets, self._processed = self._processed, {}
        await self._consumer.commit(offsets)

    async def _apply_together(self, records: list[ConsumerRecord], batch: list[Parsed]) -> bool:
        """A partition's records (`batch`: as `parse_record` read them) in one transaction, when each is an event
        whose handler applies runs (`many`) or that nobody here handles. False, with nothing applied, otherwise or
        when anything in it fails: the caller then goes record by record, with retries and dead letters."""
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

    async def _process(self, parsed: Parsed) -> None:
        record = parsed.record
        tp = TopicPartition(record.topic, record.partition)
        try:
            event = parsed.event if parsed.event is not None else self._parse(record)  # a poison's error, again
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
        omitted = [*headers, (VALUE_OMITTED, str(len(record.value or b"")).encode())]
        size = len(record.value or b"") + len(record.key or b"") + sum(len(k) + len(v) for k, v in headers)
        if size > DEAD_LETTER_MAX_BYTES:
            # Too large to copy (a document with its bytes, or a record at its topic's limit once the
            # headers are added): the dead letter points at the record on its topic instead.
            await self._producer.send_and_wait(dlq_topic(self.group_id), value=None, key=record.key, headers=omitted)
        else:
            try:
                await self._producer.send_and_wait(
                    dlq_topic(self.group_id), value=record.value, key=record.key, headers=headers
                )
            except (MessageSizeTooLargeError, RecordListTooLargeError):
                await self._producer.send_and_wait(
                    dlq_topic(self.group_id), value=None, key=record.key, headers=omitted
                )
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
