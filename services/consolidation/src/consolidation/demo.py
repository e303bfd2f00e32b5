"""`python -m consolidation.demo`: the demo provinces' staff offices publish their past months (DEMO DATA).

    python -m consolidation.demo --periods 2

Each province in force publishes its last past periods' reports before the national deadline, after it, or
never, as `handlers/demo.py` decides; a report published before is kept. Refused when BAOCAO_ENV=production.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from consolidation.adapters.press import Press
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.config import Settings
from consolidation.handlers.demo import DemoPublication, demo_targets, publish_as_the_office
from consolidation.main import MIGRATIONS


async def publish_demo(settings: Settings, *, periods: int) -> list[DemoPublication]:
    await upgrade_database(MIGRATIONS, settings.database_url)
    engine = make_engine(settings.database_url, pool_size=1)
    sessions, press, now = make_sessionmaker(engine), Press(settings), settings.build_clock().now()
    try:
        async with ConsolidationUnitOfWork.begin(sessions) as uow:
            targets = await demo_targets(uow, now=now, periods=periods)
        done = []
        for target in targets:  # one transaction each: a report that cannot be published leaves the others
            async with ConsolidationUnitOfWork.begin(sessions) as uow:
                done.append(await publish_as_the_office(uow, target=target, press=press))
        return done
    finally:
        await engine.dispose()


def main(periods: Annotated[int, typer.Option(min=1, max=12, help="How many past periods")] = 2) -> None:
    """Publish the demo provinces' past reports: on time, late or never."""
    settings = Settings()
    if settings.env == "production":
        typer.echo("refused: BAOCAO_ENV=production refuses demo data", err=True)
        raise typer.Exit(2)
    for row in asyncio.run(publish_demo(settings, periods=periods)):
        when = f" at {row.at.isoformat()}" if row.at else ""
        number = f", số {row.number}" if row.number else ""
        typer.echo(f"province {row.province} {row.plan_id} {row.period}: {row.outcome}{when}{number}")


if __name__ == "__main__":
    typer.run(main)
