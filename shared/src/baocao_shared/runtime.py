"""What every service runs besides its routes: migrations, DB, producer, relay, consumers, workers.

A service's `create_app(settings)` builds a `ServiceRuntime` and hands it to
`baocao_shared.service.build_service_app`, which starts and stops it with the app and adds the probes
and the operators' API to the service's own routes.
Kafka may be down when a service starts: HTTP comes up anyway, `/readyz` answers 503, and the
Kafka-side workers keep retrying with backoff until the broker answers.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import MetaData, text
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from baocao_shared.clock import Clock
from baocao_shared.db import asyncpg_dsn, make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.topics import dead_letter_topic
from baocao_shared.logging import configure_logging
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.handlers import Handler
from baocao_shared.messaging.outbox import OutboxRelay
from baocao_shared.messaging.producer import ensure_topic, make_producer
from baocao_shared.messaging.tables import dlq_replays_table, inbox_table, outbox_table
from baocao_shared.settings import ServiceSettings
from baocao_shared.token_access import TokenAccess

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    group_id: str
    topics: list[str]
    handlers: Mapping[str, Handler]


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    migrations: Path
    metadata: MetaData
    consumers: Sequence[ConsumerSpec] = ()
    relay: bool = True
    # Loops that need only the database (schedulers): started with the service, restarted on failure.
    workers: Sequence[tuple[str, Callable[[ServiceRuntime], Awaitable[None]]]] = ()
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = self.settings.build_clock()
        tables = self.metadata.tables
        self.outbox = tables["outbox"] if "outbox" in tables else outbox_table(self.metadata)
        self.inbox = tables["inbox"] if "inbox" in tables else inbox_table(self.metadata)
        self.dlq_replays = tables["dlq_replays"] if "dlq_replays" in tables else dlq_replays_table(self.metadata)
        self.engine = None
        self.sessionmaker = None
        self.producer: AIOKafkaProducer | None = None
        self._kafka_ready = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        # When each account's tokens are good from (baocao_shared.token_access): only where the service keeps them.
        self.token_access = TokenAccess() if "account_access" in tables else None

    async def start(self) -> None:
        s = self.settings
        configure_logging(s.service_name, s.log_level)
        await upgrade_database(self.migrations, s.database_url)
        self.engine = make_engine(s.database_url, pool_size=s.db_pool_size, max_overflow=0)
        self.sessionmaker = make_sessionmaker(self.engine)
        if self.token_access is not None:
            await self.token_access.reload(self.engine)  # before the first request: no revoked token slips in
            self._spawn("token-access", self._run_token_access)
        self._spawn("kafka", self._run_kafka_side)
        for name, worker in self.workers:
            self._spawn(name, lambda worker=worker: worker(self))
        log.info("service.started", port=s.http_port, clock=s.clock, pid=os.getpid())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A worker stuck in a client's shutdown (a consumer leaving its group while the broker
            # is away) must not hold the service up: give them a bounded time, then move on.
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.warning("worker.stop_timed_out", worker=task.get_name(), awaiting=awaiting(task))
        if self.producer is not None:
            with suppress(Exception):
                await self.producer.stop()
        if self.engine is not None:
            await self.engine.dispose()

    def _spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        self._tasks.append(asyncio.create_task(self._supervised(name, factory), name=name))

    async def _supervised(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run a worker for the life of the service; restart it with backoff when it fails."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(multiplier=0.5, max=10),
            before_sleep=lambda state: log.warning(
                "worker.restarting",
                worker=name,
                error=repr(state.outcome.exception()),
                attempt=state.attempt_number,
            ),
        ):
            with attempt:
                await factory()

    async def _run_kafka_side(self) -> None:
        s = self.settings
        producer = make_producer(s.kafka_bootstrap_servers, client_id=s.service_name)
        try:
            await producer.start()
        except Exception:
            await producer.stop()
            raise
        for spec in self.consumers:
            dead_letters = dead_letter_topic(self.group_id(spec), s.topic_retention_ms)
            await ensure_topic(
                s.kafka_bootstrap_servers, dead_letters.name, partitions=s.topic_partitions, config=dead_letters.config
            )
        self.producer = producer
        self._kafka_ready.set()
        if self.relay:
            self._spawn("outbox-relay", self._run_relay)
        for spec in self.consumers:
            self._spawn(f"consumer:{spec.group_id}", lambda spec=spec: self._run_consumer(spec))

    async def _run_token_access(self) -> None:
        """Reload the accounts' access that changed, whichever instance of the service recorded it."""
        while True:
            await asyncio.sleep(self.settings.token_access_poll_interval_s)
            await self.token_access.reload(self.engine)

    async def _run_relay(self) -> None:
        """The outbox relay in a thread of its own, on its own event loop, with its own database connection and
        producer. On the service's loop, under load, each of its awaits queued behind every request's: the e2e
        bench measured its wait from the row's write to its send at p99 2.6 s at 500/s offered, most of the 201 ->
        visible time. Its own thread gets its share of the interpreter whatever the request loop holds."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        inner: dict[str, object] = {}
        started = threading.Event()

        def report(error: BaseException | None) -> None:
            if not finished.done():
                finished.set_exception(error) if error is not None else finished.set_result(None)

        async def relay() -> None:
            inner["loop"], inner["task"] = asyncio.get_running_loop(), asyncio.current_task()
            started.set()
            s = self.settings
            engine = make_engine(s.database_url, pool_size=1, max_overflow=0)
            producer = make_producer(s.kafka_bootstrap_servers, client_id=f"{s.service_name}-relay")
            try:
                await producer.start()
                await OutboxRelay(
                    engine=engine,
                    producer=producer,
                    outbox=self.outbox,
                    listen_dsn=asyncpg_dsn(s.database_url),
                    poll_interval_s=s.outbox_poll_interval_s,
                ).run()
            finally:
                with suppress(Exception):
                    await producer.stop()
                await engine.dispose()

        def thread_main() -> None:
            error: BaseException | None = None
            try:
                asyncio.run(relay())  # asyncio's own loop, as every service's (baocao_shared.service.serve says why)
            except BaseException as exc:  # reported to the service's loop, which restarts the relay
                error = exc if not isinstance(exc, asyncio.CancelledError) else None
            started.set()
            with suppress(RuntimeError):  # the service's loop is closed: nothing waits any more
                loop.call_soon_threadsafe(report, error)

        threading.Thread(target=thread_main, name=f"{self.settings.service_name}-outbox-relay", daemon=True).start()
        try:
            await asyncio.shield(finished)
        except asyncio.CancelledError:
            await asyncio.to_thread(started.wait, 10)
            if "loop" in inner:
                with suppress(RuntimeError):
                    inner["loop"].call_soon_threadsafe(inner["task"].cancel)  # type: ignore[attr-defined]
            with suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(finished), 10)
            raise

    def group_id(self, spec: ConsumerSpec) -> str:
        return f"{self.settings.consumer_group_prefix}{spec.group_id}"

    async def _run_consumer(self, spec: ConsumerSpec) -> None:
        await ConsumerRunner(
            group_id=self.group_id(spec),
            topics=spec.topics,
            handlers=spec.handlers,
            sessionmaker=self.sessionmaker,
            inbox=self.inbox,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            producer=self.producer,
            max_attempts=self.settings.consumer_max_attempts,
        ).run()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {exc.__class__.__name__}"
        checks["kafka"] = await self._kafka_check()
        return checks

    async def _kafka_check(self) -> str:
        if not self._kafka_ready.is_set() or self.producer is None:
            return "connecting"
        try:
            client = self.producer.client
            await asyncio.wait_for(client.fetch_all_metadata(), 3)
            return "ok" if client.cluster.brokers() else "no brokers"
        except Exception as exc:
            return f"unreachable: {exc.__class__.__name__}"


def awaiting(task: asyncio.Task, depth: int = 40) -> list[str]:
    """Where a task is suspended, for the log of one that did not stop: each coroutine of its await chain
    as file:line function, innermost last."""
    where: list[str] = []
    awaited: object = task.get_coro()
    while awaited is not None and len(where) < depth:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is None:
            where.append(repr(awaited)[:200])
            break
        where.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    return where
