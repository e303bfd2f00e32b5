"""Composition root of the intake service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.http.audit import audit_router
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.service import build_service_app
from intake.adapters import orm
from intake.api import account_access as account_access_api
from intake.api import auth as auth_api
from intake.api import catalog as catalog_api
from intake.api import locks as locks_api
from intake.api import periods as periods_api
from intake.api import submissions as submissions_api
from intake.config import Settings
from intake.consumers import CONSUMER
from intake.deps import get_principal
from intake.handlers.accounts import Authenticator
from intake.web.routes import install as install_web_pages

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=orm.metadata, consumers=[CONSUMER])
    authenticator = Authenticator.from_settings(settings)  # production without a key file stops here
    app = build_service_app(
        runtime,
        title="Baocao intake",
        description="Units submit their monthly reports; owns the catalogue and the accounts.",
        routers=[
            auth_api.router,
            account_access_api.router,
            catalog_api.router,
            submissions_api.router,
            locks_api.router,
            periods_api.router,
            audit_router(orm.audit_log, principal=get_principal),
        ],
    )
    # Refuses a token its account's deactivation or password change revoked (baocao_shared.token_access).
    authenticator.verifier = authenticator.verifier.checking(runtime.token_access)
    app.state.authenticator = authenticator
    app.state.jwt_verifier = authenticator.verifier
    install_web_pages(app)  # the units' web form, sign-in pages and /static
    catalog_api.document_province_file(app)
    return app
