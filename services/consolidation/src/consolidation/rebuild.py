"""`python -m consolidation.rebuild`: rebuild this service's state by replaying the topics from the start.

    python -m consolidation.rebuild                 # into the service's own database (stop the service first)
    python -m consolidation.rebuild --into URL      # into another database, e.g. to compare with the live one
    python -m consolidation.rebuild --reset         # the same as the first: `--reset` as every service's rebuild

The projection tables are emptied, every record of the catalogue, submissions, deadlines and reports
topics is applied again with the live handlers, and the outbox rows the replay wrote are marked sent:
the events they stand for are already on the topics. The audit trail is append-only and is kept.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.messaging.replay import ReplayOutcome, replay
from consolidation.adapters import orm
from consolidation.adapters.rebuild import empty_projection, mark_outbox_sent
from consolidation.config import Settings
from consolidation.consumers import GROUP, HANDLERS, TOPICS
from consolidation.main import MIGRATIONS


async def rebuild(settings: Settings, *, into: str | None = None, topics: list[str] = TOPICS) -> ReplayOutcome:
    """Empty the projection of `into` (default: the service's database) and replay `topics` into it;
    `topics` are consolidation's own unless a copy of them under other names is given (the benchmark)."""
    url = into or settings.database_url
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    try:
        await empty_projection(engine)
        outcome = await replay(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topics=topics,
            handlers=HANDLERS,
            sessionmaker=make_sessionmaker(engine),
            inbox=orm.inbox,
            group_label=f"{settings.consumer_group_prefix}{GROUP}",
        )
        await mark_outbox_sent(engine)
        return outcome
    finally:
        await engine.dispose()


def main(
    into: Annotated[str | None, typer.Option(help="Rebuild into this database URL instead")] = None,
    reset: Annotated[
        bool, typer.Option(help="Accepted as every service's rebuild takes it: this one always empties its projection")
    ] = False,
) -> None:
    """Rebuild consolidation's state from the topics."""
    outcome = asyncio.run(rebuild(Settings(), into=into))
    typer.echo(
        f"replayed {outcome.records} records in {outcome.seconds:.1f}s: {outcome.applied} applied, "
        f"{outcome.skipped} skipped"
    )


if __name__ == "__main__":
    typer.run(main)
