"""`python -m deadlines.rebuild`: rebuild deadlines' state from the topics, firing nothing twice.

    python -m deadlines.rebuild                 # into the service's own, freshly migrated database (service stopped)
    python -m deadlines.rebuild --reset         # the same, emptying the derived tables first
    python -m deadlines.rebuild --into URL      # into another database, e.g. to compare with the live one

1. The catalogue, submissions and reports topics are replayed with the live consumer's map: the catalogue it
   follows, obligations (first submissions, timeliness), the provinces' obligations (first publications).
2. The periods due by now are opened as the scheduler opens them: their obligations and schedule rows.
3. Its own topic, baocao.deadlines, is replayed into what it records of what it said (adapters.rebuild): the
   notices fired (reminders, overdue notices, nudges; the national level's too), the schedule rows that fired,
   escalations, closes, and when each obligation was announced.
4. The outbox rows steps 1-3 wrote are dropped: those events are already on the topic.
5. The scheduler ticks once at `now`: every notice already sent is sent for it, so what it still writes to the
   outbox is what was due and never sent (none, after a clean stop); the relay sends that once the service runs.

The audit trail (the operators' nudges, with who asked) is not derived from events: it comes back from the backup.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import typer

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events import topics
from baocao_shared.messaging.rebuild import (
    NotEmpty,
    Progress,
    drop_outbox_since,
    outbox_mark,
    outbox_since,
    prepare,
    summary,
    table_counts,
)
from baocao_shared.messaging.replay import ReplayOutcome, replay
from deadlines.adapters import orm
from deadlines.adapters.rebuild import DERIVED, FIRED
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.config import Settings
from deadlines.consumers import CONSUMER, GROUP, HANDLERS
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.scheduler import tick
from deadlines.main import MIGRATIONS

OWN = "fired"  # the inbox's consumer group for deadlines' own events, beside the live group's


@dataclass
class Rebuilt:
    replays: dict[str, ReplayOutcome] = field(default_factory=dict)
    opened: int = 0  # periods opened
    dropped: int = 0  # outbox rows of replayed facts, dropped
    due_unsent: int = 0  # outbox rows the closing tick wrote: due, never sent
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(o.records for o in self.replays.values())


async def rebuild(
    settings: Settings,
    *,
    into: str | None = None,
    reset: bool = False,
    now: datetime | None = None,
    input_topics: list[str] | None = None,
    own_topic: str = topics.DEADLINES,
    progress: Progress | None = None,
) -> Rebuilt:
    """Rebuild `into` (default: the service's database) from the topics, as of `now` (default: the clock)."""
    progress = progress or Progress("deadlines")
    started = time.perf_counter()
    url = into or settings.database_url
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    done = Rebuilt()
    try:
        await prepare(engine, DERIVED, reset=reset)
        mark = await outbox_mark(engine, orm.outbox)
        sessions = make_sessionmaker(engine)
        group = f"{settings.consumer_group_prefix}{GROUP}"
        sources = input_topics or CONSUMER.topics
        progress.step(f"replaying {', '.join(sources)}")
        done.replays["inputs"] = await replay(
            bootstrap_servers=settings.kafka_bootstrap_servers, topics=sources, handlers=HANDLERS,
            sessionmaker=sessions, inbox=orm.inbox, group_label=group, progress=progress.replayed("inputs"),
        )  # fmt: skip
        now = now or settings.build_clock().now()
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            done.opened = len(await open_due_periods(uow, now=now))
        progress.step(f"opened {done.opened} periods as of {now.isoformat()}; replaying {own_topic}")
        done.replays["fired"] = await replay(
            bootstrap_servers=settings.kafka_bootstrap_servers, topics=[own_topic], handlers=FIRED,
            sessionmaker=sessions, inbox=orm.inbox, group_label=f"{group}.{OWN}", progress=progress.replayed("fired"),
        )  # fmt: skip
        done.dropped = await drop_outbox_since(engine, orm.outbox, mark)
        await tick(sessions, now=now)
        done.due_unsent = await outbox_since(engine, orm.outbox, mark)
        done.counts = await table_counts(engine, DERIVED)
        done.seconds = time.perf_counter() - started
        return done
    finally:
        await engine.dispose()


def main(
    reset: Annotated[bool, typer.Option(help="Empty the derived tables first")] = False,
    into: Annotated[str | None, typer.Option(help="Rebuild into this database URL instead")] = None,
) -> None:
    """Rebuild deadlines' state from the topics; nothing already sent is sent again."""
    try:
        done = asyncio.run(rebuild(Settings(), into=into, reset=reset))
    except NotEmpty as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(2) from None
    typer.echo(summary("deadlines", done.replays, done.counts, done.seconds))
    typer.echo(f"  periods opened {done.opened}; outbox: {done.dropped} replayed rows dropped, "
               f"{done.due_unsent} due and never sent (the relay sends them)")  # fmt: skip


if __name__ == "__main__":
    typer.run(main)
