"""An open-loop load: requests start on a fixed schedule whether or not earlier ones were answered.

A slow server then shows as latency (measured from each request's scheduled start, so the wait for a free
connection counts) and as a lower answered rate, never as a politely lower offered rate. The client is a small
HTTP/1.1 keep-alive pool over asyncio streams: on two shared cores a full-featured client (httpx spends about a
millisecond of CPU per request) would take the CPU the services under test need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as expected."""


@dataclass
class Answer:
    status: int
    body: bytes


class Pool:
    """Keep-alive HTTP/1.1 connections to one origin; at most `size` at once, the rest wait their turn."""

    def __init__(self, url: str, *, size: int = 128, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(size)
        self._timeout = timeout
        self.opened = 0

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self._timeout)
                self.opened += 1
            reader, writer = conn
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            try:
                answer, keep = await asyncio.wait_for(self._read(reader), self._timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                writer.close()
                raise HttpError(repr(exc)) from exc
            if keep:
                self._idle.append(conn)
            else:
                writer.close()
            return answer

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await reader.readline()).split(b";")[0], 16):
                body += await reader.readexactly(size + 2)
                body = body[:-2]
            await reader.readline()
        else:
            body = await reader.readexactly(int(fields.get("content-length", "0")))
        return Answer(status, body), fields.get("connection", "").lower() != "close"

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


@dataclass
class Outcome:
    """One scheduled request: when it was due, when its answer came, and what the answer was."""

    index: int
    due: float  # perf_counter() of its scheduled start
    answered: float | None = None
    status: int | None = None  # None: no HTTP answer (transport error, timeout)
    body: bytes = b""
    error: str = ""


@dataclass
class Run:
    rate: float
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = 0.0
    last_sent: float = 0.0  # perf_counter() at which the last request actually started
    finished: float = 0.0  # every answer in (or the drain bound passed)

    @property
    def offered(self) -> int:
        return len(self.outcomes)

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            key = str(o.status) if o.status is not None else "no answer"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def sent_rate(self) -> float:
        """Requests started per second over the sending window (below `rate` when the client fell behind)."""
        span = self.last_sent - self.started
        return (self.offered - 1) / span if span > 0 and self.offered > 1 else float("nan")

    def answered_rate(self, status: int = 201) -> float:
        """`status` answers per second, from the first scheduled start to the last such answer."""
        times = [o.answered for o in self.outcomes if o.status == status and o.answered is not None]
        return len(times) / (max(times) - self.started) if times else 0.0


async def open_loop(
    rate: float,
    seconds: float,
    send: Callable[[int], Awaitable[tuple[int, bytes]]],
    *,
    limit: int,
    drain_s: float,
    on_answer: Callable[[Outcome], None] | None = None,
) -> Run:
    """Start `send(i)` at t0 + i/rate for i < min(limit, rate*seconds); wait up to `drain_s` after the last
    start for the answers. `on_answer` sees each outcome as it completes (the e2e suite starts its clock there)."""
    count = min(limit, int(rate * seconds))
    run = Run(rate=rate, seconds=seconds)
    tasks: list[asyncio.Task] = []

    async def one(outcome: Outcome) -> None:
        try:
            outcome.status, outcome.body = await send(outcome.index)
        except (HttpError, OSError, TimeoutError) as exc:
            outcome.error = repr(exc)[:200]
        outcome.answered = time.perf_counter()
        if on_answer is not None:
            on_answer(outcome)

    run.started = time.perf_counter()
    for i in range(count):
        due = run.started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        outcome = Outcome(index=i, due=due)
        run.outcomes.append(outcome)
        tasks.append(asyncio.create_task(one(outcome)))
        run.last_sent = time.perf_counter()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=drain_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for outcome in run.outcomes:
            if outcome.answered is None:
                outcome.error = outcome.error or f"no answer within {drain_s:.0f}s after the last start"
    run.finished = time.perf_counter()
    return run
