"""When does each accepted submission become visible? Watched in the databases the read APIs answer from.

Polling the compliance and report endpoints at a fine interval would make the observer the bottleneck:
each answer lists every unit of the period (thousands), rendered by the service under test. Instead a
`Watcher` asks the service's own database, every `interval` seconds, which of the submissions still waited
for (the accepted ones not seen yet) are there now, by primary key (one indexed probe per waiting key).
A row found there is what the next API call shows: the compliance API reads deadlines' `obligations`
(first_submitted_at set = the unit has submitted), the report's totals are summed from consolidation's
`unit_reports`. The time of a sighting is the start of the poll that found it (its snapshot), so a figure
is late by at most one interval plus one query. The interval stretches to ten times the last query's time
when many keys wait (a backlog of thousands), so the watcher never takes more than about a tenth of one
database backend; `mean_interval_s` says what resolution that left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable

import asyncpg


class Watcher:
    """Polls `query` (taking the waiting keys as parallel text arrays) and timestamps each key's first sighting."""

    def __init__(self, name: str, dsn: str, query: str, *, interval: float = 0.02, share: float = 0.1) -> None:
        self.name, self._dsn, self._query, self._interval, self._share = name, dsn, query, interval, share
        self._last_query_s = 0.0
        self._first_poll = self._last_poll = 0.0
        self.waiting: dict[Hashable, float] = {}  # key -> when it was accepted (perf_counter)
        self.seen: dict[Hashable, float] = {}  # key -> seconds from accepted to first seen
        self.unseen_s: list[float] = []  # set at stop: how long each key never seen had waited
        self.polls = 0
        self.poll_seconds = 0.0  # time spent in the queries, to show the observer stayed light
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        self._emptied = asyncio.Event()  # set while nothing is waiting
        self._emptied.set()

    def expect(self, key: Hashable, accepted_at: float) -> None:
        self.waiting[key] = accepted_at
        self._emptied.clear()

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self._dsn)
        self._task = asyncio.create_task(self._run())

    def latencies(self) -> list[float]:
        """Seconds to visibility of every accepted key: the ones never seen count with the time they had waited
        when the watcher stopped, a lower bound (so a percentile over them is a lower bound too)."""
        return [*self.seen.values(), *self.unseen_s]

    async def stop(self) -> None:
        now = time.perf_counter()
        self.unseen_s = [now - accepted for accepted in self.waiting.values()]
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._conn is not None:
            await self._conn.close()

    async def wait_all(self, timeout: float) -> bool:
        """Until nothing is waiting, within `timeout` seconds (polled; the watcher runs meanwhile)."""
        try:
            await asyncio.wait_for(self._emptied.wait(), timeout)
        except TimeoutError:
            pass
        return not self.waiting

    @property
    def mean_interval_s(self) -> float:
        """The mean time between two polls' starts: the resolution of the sightings."""
        return (self._last_poll - self._first_poll) / (self.polls - 1) if self.polls > 1 else float("nan")

    async def _run(self) -> None:
        while not self._stop.is_set():
            if self.waiting:
                await self.poll()
            try:
                await asyncio.wait_for(self._stop.wait(), max(self._interval, self._last_query_s / self._share))
            except TimeoutError:
                pass

    async def poll(self) -> None:
        keys = list(self.waiting)
        columns = [list(c) for c in zip(*keys, strict=True)] if isinstance(keys[0], tuple) else [keys]
        at = time.perf_counter()
        rows = await self._conn.fetch(self._query, *columns)
        self._last_query_s = time.perf_counter() - at
        self.poll_seconds += self._last_query_s
        self._first_poll = self._first_poll or at
        self._last_poll = at
        self.polls += 1
        for row in rows:
            key = tuple(row) if len(row) > 1 else row[0]
            accepted = self.waiting.pop(key, None)
            if accepted is None:
                continue
            self.seen[key] = at - accepted  # keys are added before a poll takes them: never negative
        if not self.waiting:
            self._emptied.set()
