"""Composition root of the deadlines service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.runtime import ServiceRuntime, build_service_app
from deadlines.adapters import orm
from deadlines.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=orm.metadata)
    return build_service_app(
        runtime,
        title="Baocao deadlines",
        description="Obligations, timeliness, reminders and escalation for every province, plan, unit and period.",
    )
