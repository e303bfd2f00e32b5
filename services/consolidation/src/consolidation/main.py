"""Composition root of the consolidation service: the only place that wires real adapters."""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.auth import JwtVerifier, intake_jwks_url
from baocao_shared.http.audit import audit_router
from baocao_shared.http.deps import current_principal
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.service import build_service_app
from consolidation.adapters import orm
from consolidation.adapters.press import Press
from consolidation.api import routes
from consolidation.config import Settings
from consolidation.consumers import CONSUMER
from consolidation.domain.documents import DocumentPress
from consolidation.web.pages import install as install_web_pages

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def create_app(
    settings: Settings | None = None, *, verifier: JwtVerifier | None = None, press: DocumentPress | None = None
) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=orm.metadata, consumers=[CONSUMER])
    app = build_service_app(
        runtime,
        title="Baocao consolidation",
        description="The province's consolidated monthly report: projection, approval, publishing, national roll-up.",
        routers=[routes.router, audit_router(orm.audit_log, principal=current_principal, path="/v1/reports/audit")],
    )
    # Refuses a token its account's deactivation or password change revoked (baocao_shared.token_access).
    app.state.jwt_verifier = (verifier or JwtVerifier.from_jwks_url(intake_jwks_url(settings))).checking(
        runtime.token_access
    )
    app.state.press = press or Press(settings)  # the DOCX and the signed PDF frozen at publishing
    install_web_pages(app)  # the report's page with its workflow, the national view, /static and the error pages
    return app
