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

from dataclasses import dataclass
from datetime import datetime

import typer

from baocao_shared.events import topics
from baocao_shared.messaging.rebuild import Progress, Rebuilt, command, outbox_since, rebuilding
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
class DeadlinesRebuilt(Rebuilt):
    opened: int = 0  # periods opened
    due_unsent: int = 0  # outbox rows the closing tick wrote: due, never sent


async def rebuild(
    settings: Settings,
    *,
    into: str | None = None,
    reset: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DeadlinesRebuilt:
    """Rebuild `into` (default: the service's database) from the topics, as of `now` (default: the clock)."""
    now = now or settings.build_clock().now()
    group = f"{settings.consumer_group_prefix}{GROUP}"
    async with rebuilding(
        url=into or settings.database_url, migrations=MIGRATIONS, derived=DERIVED, outbox=orm.outbox,
        inbox=orm.inbox, bootstrap_servers=settings.kafka_bootstrap_servers, reset=reset,
        progress=progress or Progress("deadlines"),
    ) as work:  # fmt: skip
        work.done = DeadlinesRebuilt()
        await work.replay("inputs", CONSUMER.topics, HANDLERS, group)
        async with DeadlinesUnitOfWork.begin(work.sessions) as uow:
            work.done.opened = len(await open_due_periods(uow, now=now))
        work.progress.step(f"opened {work.done.opened} periods as of {now.isoformat()}")
        await work.replay(OWN, [topics.DEADLINES], FIRED, f"{group}.{OWN}")
        await work.drop_replayed_outbox()
        await tick(work.sessions, now=now)
        work.done.due_unsent = await outbox_since(work.engine, orm.outbox, work.mark)
    return work.done


main = command(
    "deadlines",
    rebuild,
    Settings,
    also=lambda done: (
        f"  periods opened {done.opened}; {done.due_unsent} notices due and never sent (the relay sends them)"
    ),
)


if __name__ == "__main__":
    typer.run(main)
