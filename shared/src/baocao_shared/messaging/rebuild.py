"""What every service's `python -m <service>.rebuild` does around the replay of its topics (messaging.replay).

- `prepare`: the derived tables must be empty (a freshly migrated database), or `reset` truncates them first; a
  second run with `--reset` therefore leaves the same state as the first.
- `outbox_mark` / `drop_outbox_since`: the use cases a replay runs write events to the outbox as they did live;
  those events are already on the topics, so the rows the replay wrote are deleted before anything sends them.
  Rows that were there before (a live database's unsent tail) are kept.
- `Progress`: one line per fetched batch and a summary, on stderr (the command's output is its counts).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.messaging.handlers import Handler
from baocao_shared.messaging.replay import ReplayOutcome, replay


class NotEmpty(RuntimeError):
    """The database already holds derived rows and no reset was asked for."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        held = ", ".join(f"{table} ({n})" for table, n in counts.items() if n)
        super().__init__(f"the database already holds derived rows: {held}; pass --reset to empty them first")


async def table_counts(engine: AsyncEngine, tables: Sequence[str]) -> dict[str, int]:
    async with engine.connect() as conn:
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in tables}


async def prepare(engine: AsyncEngine, tables: Sequence[str], *, reset: bool) -> None:
    """Truncate `tables` when `reset`; otherwise refuse (NotEmpty) if any of them holds a row."""
    if reset:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)}"))
        return
    counts = await table_counts(engine, tables)
    if any(counts.values()):
        raise NotEmpty(counts)


async def outbox_mark(engine: AsyncEngine, outbox: Table) -> int:
    """The outbox's highest row id now (0 when empty): rows above it are the replay's."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.coalesce(func.max(outbox.c.id), 0)))).scalar_one()


async def drop_outbox_since(engine: AsyncEngine, outbox: Table, mark: int) -> int:
    """Delete the outbox rows written after `mark` (replayed facts, already on their topics); how many."""
    async with engine.begin() as conn:
        return (await conn.execute(outbox.delete().where(outbox.c.id > mark))).rowcount


async def outbox_since(engine: AsyncEngine, outbox: Table, mark: int) -> int:
    """How many outbox rows were written after `mark`."""
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.id > mark))).scalar_one()


@dataclass
class Progress:
    """Prints where a rebuild stands: each step, and each replay's running count of records."""

    service: str
    started: float = field(default_factory=time.perf_counter)
    out: object = sys.stderr

    def step(self, what: str) -> None:
        print(f"[{self.service} rebuild {time.perf_counter() - self.started:6.1f}s] {what}", file=self.out, flush=True)

    def replayed(self, label: str):
        """A callback for `replay(progress=...)`."""

        def report(outcome: ReplayOutcome) -> None:
            self.step(f"{label}: {outcome.records} records read, {outcome.applied} applied, {outcome.skipped} skipped")

        return report


def summary(service: str, done: Rebuilt) -> str:
    """The command's closing lines: what each replay read and applied, and the rows of each table rebuilt."""
    lines = [
        f"{service}: rebuilt in {done.seconds:.1f}s",
        *(
            f"  {label}: {o.records} records replayed, {o.applied} applied, {o.skipped} skipped"
            for label, o in done.replays.items()
        ),
        "  rows: " + ", ".join(f"{table} {n}" for table, n in done.counts.items()),
        f"  outbox: {done.dropped} rows of replayed facts dropped",
    ]
    return "\n".join(lines)


@dataclass
class Rebuilt:
    """What a rebuild did: each replay's outcome, the outbox rows of replayed facts it dropped, the rows of each
    derived table after it, and how long it took."""

    replays: dict[str, ReplayOutcome] = field(default_factory=dict)
    dropped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(o.records for o in self.replays.values())


@dataclass
class Rebuild:
    """One rebuild under way: the database (migrated, prepared), its sessions, and the replays run so far."""

    engine: AsyncEngine
    sessions: async_sessionmaker
    bootstrap_servers: str
    inbox: Table
    outbox: Table
    mark: int  # the outbox's last row before the rebuild
    progress: Progress
    done: Rebuilt
    settled: bool = False

    async def drop_replayed_outbox(self) -> None:
        """Drop the outbox rows written so far (replayed facts); rows written after this call are kept: a
        rebuild's last step may write what is new (deadlines' scheduler: due, never sent)."""
        self.done.dropped = await drop_outbox_since(self.engine, self.outbox, self.mark)
        self.settled = True

    async def replay(self, label: str, topics: Sequence[str], handlers: Mapping[str, Handler], group: str) -> None:
        """Replay `topics` from their beginning with `handlers`, under the inbox's `group`."""
        self.progress.step(f"{label}: replaying {', '.join(topics)}")
        self.done.replays[label] = await replay(
            bootstrap_servers=self.bootstrap_servers, topics=list(topics), handlers=handlers,
            sessionmaker=self.sessions, inbox=self.inbox, group_label=group, progress=self.progress.replayed(label),
        )  # fmt: skip


@asynccontextmanager
async def rebuilding(
    *,
    url: str,
    migrations: Path,
    derived: Sequence[str],
    outbox: Table,
    inbox: Table,
    bootstrap_servers: str,
    reset: bool,
    progress: Progress,
) -> AsyncIterator[Rebuild]:
    """Migrate `url`, check its derived tables are empty (or empty them, `reset`), run the body's replays, then
    drop the outbox rows they wrote (unless the body did, `drop_replayed_outbox`) and count the derived rows."""
    started = time.perf_counter()
    await upgrade_database(migrations, url)
    engine = make_engine(url)
    try:
        await prepare(engine, derived, reset=reset)
        mark = await outbox_mark(engine, outbox)
        work = Rebuild(engine, make_sessionmaker(engine), bootstrap_servers, inbox, outbox, mark, progress, Rebuilt())
        yield work
        if not work.settled:
            await work.drop_replayed_outbox()
        work.done.counts = await table_counts(engine, derived)
        work.done.seconds = time.perf_counter() - started
        progress.step(f"done: {work.done.records} records replayed, {work.done.dropped} outbox rows dropped")
    finally:
        await engine.dispose()


def command(
    service: str,
    rebuild: Callable[..., Awaitable[Rebuilt]],
    settings: Callable[[], Any],
    *,
    also: Callable[[Any], str] | None = None,
) -> Callable[..., None]:
    """A service's `python -m <service>.rebuild [--reset] [--into URL]` (run it with typer.run): the exit code 2
    and the reason when the database already holds derived rows, else the summary (and `also`'s line)."""

    def main(
        reset: Annotated[bool, typer.Option(help="Empty the derived tables first")] = False,
        into: Annotated[str | None, typer.Option(help="Rebuild into this database URL instead")] = None,
    ) -> None:
        try:
            done = asyncio.run(rebuild(settings(), into=into, reset=reset))
        except NotEmpty as refused:
            typer.echo(str(refused), err=True)
            raise typer.Exit(2) from None
        typer.echo(summary(service, done))
        if also is not None:
            typer.echo(also(done))

    main.__doc__ = f"Rebuild {service}'s state from the topics; nothing already sent is sent again."
    return main
