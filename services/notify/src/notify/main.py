"""Composition root of the notify service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.runtime import ServiceRuntime, build_service_app
from notify.adapters import orm
from notify.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=orm.metadata)
    return build_service_app(
        runtime,
        title="Baocao notify",
        description="Email, webhook and in-app delivery of reminders, escalations and published reports.",
    )
