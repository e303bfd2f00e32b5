"""Composition root of the deadlines service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.auth import JwtVerifier, intake_jwks_url
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.service import build_service_app
from deadlines.adapters import orm
from deadlines.api import periods, routes
from deadlines.config import Settings
from deadlines.consumers import CONSUMER
from deadlines.scheduler import run_scheduler
from deadlines.web.routes import install as install_web_pages

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, verifier: JwtVerifier | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(
        settings=settings,
        migrations=MIGRATIONS,
        metadata=orm.metadata,
        consumers=[CONSUMER],
        workers=[("scheduler", run_scheduler)] if settings.scheduler_enabled else [],
    )
    app = build_service_app(
        runtime,
        title="Baocao deadlines",
        description="Obligations, timeliness, reminders and escalation for every province, plan, unit and period.",
        routers=[routes.router, periods.router],
    )
    # Refuses a token its account's deactivation or password change revoked (baocao_shared.token_access).
    app.state.jwt_verifier = (verifier or JwtVerifier.from_jwks_url(intake_jwks_url(settings))).checking(
        runtime.token_access
    )
    install_web_pages(app)  # the staff office's compliance dashboard, /static and the error pages
    return app
