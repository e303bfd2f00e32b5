"""A stopping service cancels its consumer and its outbox relay: each must end at once, not swallow the
cancellation and run on (ServiceRuntime.stop then waited its 10 s bound out, seen in the test suite's
teardowns, and the consumer went on applying events on an engine being disposed)."""

import asyncio

import pytest
from sqlalchemy import MetaData

from baocao_shared.events import CloudEvent
from baocao_shared.messaging.consumer import ConsumerRunner
from baocao_shared.messaging.outbox import OutboxRelay
from baocao_shared.messaging.tables import inbox_table, outbox_table


async def finish(task: asyncio.Task) -> None:
    """Cancel until it ends, so that a failing case does not leave a task running on the session's loop."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)


class HangingRunner(ConsumerRunner):
    """The handler's transaction never ends: the cancellation lands inside an attempt."""

    def __init__(self) -> None:
        super().__init__(
            group_id="g",
            topics=["t"],
            handlers={},
            sessionmaker=None,
            inbox=inbox_table(MetaData()),
            bootstrap_servers="127.0.0.1:1",
            producer=None,
            retry_initial_s=0.01,
        )
        self.attempts = 0
        self.started = asyncio.Event()

    async def _apply_once(self, handler, event) -> bool:
        self.attempts += 1
        self.started.set()
        await asyncio.sleep(3600)
        return True


async def test_a_consumer_cancelled_mid_handler_stops_without_retrying():
    runner = HangingRunner()
    event = CloudEvent(source="/test", type="vn.baocao.test.cancel.v1", data={})
    task = asyncio.create_task(runner._apply_with_retries(lambda session, event: None, event))
    await asyncio.wait_for(runner.started.wait(), 5)
    task.cancel()
    try:
        done, _ = await asyncio.wait([task], timeout=5)
        assert done, "the cancelled consumer went on (the cancellation was retried as a failed attempt)"
        with pytest.raises(asyncio.CancelledError):
            task.result()
        assert runner.attempts == 1
    finally:
        await finish(task)


class IdleRelay(OutboxRelay):
    """Nothing to send: the relay waits for a NOTIFY (or its poll interval) between empty batches."""

    def __init__(self) -> None:
        outbox = outbox_table(MetaData())
        super().__init__(engine=None, producer=None, outbox=outbox, listen_dsn="", poll_interval_s=3600)
        self.batches = 0

    async def _listen(self):
        return None

    async def relay_batch(self) -> int:
        self.batches += 1
        return 0

    async def _update_backlog(self) -> None:
        pass


async def test_a_relay_cancelled_as_a_notify_wakes_it_stops():
    relay = IdleRelay()
    task = asyncio.create_task(relay.run())
    for _ in range(100):
        await asyncio.sleep(0)
    assert relay.batches == 1, "the relay should be waiting for a wake-up"
    relay._wake.set()  # a NOTIFY arrives...
    await asyncio.sleep(0)  # ...and the wait for it completes
    task.cancel()  # as the service stops, before the relay runs again
    try:
        done, _ = await asyncio.wait([task], timeout=5)
        assert done, "the cancelled relay went on (its wait for a wake-up returned instead of raising)"
        with pytest.raises(asyncio.CancelledError):
            task.result()
    finally:
        await finish(task)
