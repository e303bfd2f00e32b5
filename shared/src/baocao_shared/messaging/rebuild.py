"""What every service's `python -m <service>.rebuild` does around the replay of its topics (messaging.replay).

- `prepare`: the derived tables must be empty (a freshly migrated database), or `reset` truncates them first; a
  second run with `--reset` therefore leaves the same state as the first.
- `outbox_mark` / `drop_outbox_since`: the use cases a replay runs write events to the outbox as they did live;
  those events are already on the topics, so the rows the replay wrote are deleted before anything sends them.
  Rows that were there before (a live database's unsent tail) are kept.
- `Progress`: one line per fetched batch and a summary, on stderr (the command's output is its counts).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from baocao_shared.messaging.replay import ReplayOutcome


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


def summary(service: str, replays: dict[str, ReplayOutcome], counts: dict[str, int], seconds: float) -> str:
    """The command's closing lines: what each replay read and applied, and the rows of each table rebuilt."""
    lines = [
        f"{service}: rebuilt in {seconds:.1f}s",
        *(
            f"  {label}: {o.records} records replayed, {o.applied} applied, {o.skipped} skipped"
            for label, o in replays.items()
        ),
        "  rows: " + ", ".join(f"{table} {n}" for table, n in counts.items()),
    ]
    return "\n".join(lines)
