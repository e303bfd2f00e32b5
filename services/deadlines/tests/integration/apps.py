"""What deadlines' integration tests share: a test app's settings, and instants written as local text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events import make_event
from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_testing.fixtures import create_database
from baocao_testing.kit import fresh_group_prefix
from baocao_testing.samples import before_the_merger
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.config import Settings
from deadlines.handlers import catalog
from deadlines.main import MIGRATIONS
from intake.domain.catalog import parse_province_file

REPO = Path(__file__).resolve().parents[4]
# Hải Dương before its merger into Hải Phòng was loaded: these tests are about other things.
HAI_DUONG = before_the_merger(
    parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
)

INTAKE = "http://intake.test"
JUNE_20 = "2019-06-20T10:00:00+07:00"  # the pages' tests read the dashboard then


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def settings_for(postgres, kafka, *, database_url: str | None = None, **overrides: Any) -> Settings:
    """A deadlines on a fresh database (unless given one) and consumer groups of its own; the test ticks the
    scheduler itself."""
    return Settings(
        database_url=database_url or await create_database(postgres, "deadlines"),
        kafka_bootstrap_servers=kafka.bootstrap,
        env="test",
        scheduler_enabled=False,
        consumer_group_prefix=await fresh_group_prefix(kafka.bootstrap),
        outbox_poll_interval_s=0.2,
        **overrides,
    )


async def pages_settings(postgres, kafka) -> Settings:
    """As settings_for, its clock at 20 June 2019 10:00 in Hải Dương, signing in at intake.test."""
    return await settings_for(
        postgres, kafka, clock="simulated", clock_start=utc(JUNE_20), service_urls={"intake": INTAKE}
    )


@asynccontextmanager
async def hai_duong_database(postgres, *, units: list[str], stored: list[str]) -> AsyncIterator[tuple[Any, PlanV1]]:
    """A migrated deadlines database that holds Hải Dương and its plan for `units`, of which the catalogue has
    stored `stored` so far; its sessionmaker and the plan (for the tests that drive the use cases themselves)."""
    url = await create_database(postgres, "deadlines")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    plan = HAI_DUONG.plans[0].model_copy(update={"units": units})
    try:
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            await catalog.province_upserted(uow, HAI_DUONG.province)
            for code in stored:
                await catalog.unit_upserted(uow, unit(code))
            await catalog.plan_upserted(uow, plan)
        yield sessions, plan
    finally:
        await engine.dispose()


def unit(code: str) -> UnitV1:
    return UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member")


async def publish(producer, spec, data, at: datetime, *, province: str = "30") -> None:
    """An event as intake publishes it, on its topic."""
    event, key = make_event(spec, data, source="/baocao/intake", province=province, time=at)
    await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
