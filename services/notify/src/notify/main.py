"""Composition root of the notify service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.auth import JwtVerifier, intake_jwks_url
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.service import build_service_app
from notify.adapters import orm
from notify.api import routes
from notify.config import Settings
from notify.consumers import consumer
from notify.sender import run_sender
from notify.web.routes import install as install_web_pages

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None, *, verifier: JwtVerifier | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(
        settings=settings,
        migrations=MIGRATIONS,
        metadata=orm.metadata,
        consumers=[consumer(settings)],
        workers=[("sender", run_sender)] if settings.sender_enabled else [],
    )
    app = build_service_app(
        runtime,
        title="Baocao notify",
        description="Email, webhook and in-app delivery of reminders, escalations and published reports.",
        routers=[routes.router],
    )
    # Refuses a token its account's deactivation or password change revoked (baocao_shared.token_access).
    app.state.jwt_verifier = (verifier or JwtVerifier.from_jwks_url(intake_jwks_url(settings))).checking(
        runtime.token_access
    )
    install_web_pages(app)  # the deliveries for the staff offices, everyone's inbox, /static and the error pages
    return app
