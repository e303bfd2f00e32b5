"""What deadlines' integration tests share: a test app's settings, and instants written as local text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from baocao_shared.events import make_event
from baocao_testing.fixtures import create_database
from baocao_testing.kit import fresh_group_prefix
from deadlines.config import Settings
from intake.domain.catalog import parse_province_file

REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))

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


async def publish(producer, spec, data, at: datetime) -> None:
    """An event as intake publishes it, on its topic."""
    event, key = make_event(spec, data, source="/baocao/intake", province="30", time=at)
    await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
