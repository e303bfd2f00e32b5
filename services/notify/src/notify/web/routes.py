"""notify's pages added to the app: / by role, the deliveries (/thong-bao) and the inbox (/hop-thu)."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from baocao_shared.principal import Role
from baocao_shared.web import redirect
from baocao_shared.web.pages import PagePrincipal, install_signed_in_pages
from notify.web import deliveries, inbox
from notify.web.pages import TEMPLATES
from notify.web.views import DELIVERIES, INBOX

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """/, /thong-bao…, /hop-thu…, /static and the error pages (sign-in, 403, 404, a bad CSRF token)."""
    install_signed_in_pages(app, TEMPLATES)
    for pages in (router, deliveries.router, inbox.router):
        app.include_router(pages)


@router.get("/")
async def home(request: Request, principal: PagePrincipal) -> Response:
    """A unit's reporter has only an inbox here; the staff offices follow the deliveries."""
    return redirect(request, INBOX if principal.role is Role.REPORTER else DELIVERIES)
