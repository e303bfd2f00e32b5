"""What every service's signed-in pages share: who is signed in, and the answers for errors.

Pages read the `baocao_session` cookie that intake's sign-in sets (the same JWT as the API's bearer
token). Without a valid one the browser goes to intake's sign-in page. That page's `next` only takes
a path on intake itself, so the browser is not brought back here after signing in.

    @router.get("/trang")
    async def page(request: Request, principal: PagePrincipal): ...

    install_signed_in_pages(app, TEMPLATES)    # install_pages, plus the sign-in redirect and PageError pages
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from baocao_shared.auth import JWKS_PATH, SESSION_COOKIE, KeySetUnavailable, intake_jwks_url
from baocao_shared.errors import Unauthorized
from baocao_shared.principal import Principal
from baocao_shared.web import install_pages, redirect, render


class LoginRequired(Exception):
    """No valid session: the browser is sent to intake's sign-in page."""


class PageError(Exception):
    """A page that cannot be shown, answered with a Vietnamese explanation."""

    def __init__(self, status: int, title: str, message: str, *, back_url: str = "/", back_label: str = "") -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.back_url, self.back_label = back_url, back_label or "Về trang chính"


def intake_url(request: Request) -> str:
    """intake's address for browsers (its public URL), with the same default as the JWKS it verifies with."""
    settings = request.app.state.runtime.settings
    return settings.public_url("intake") or intake_jwks_url(settings).removesuffix(JWKS_PATH)


async def page_principal(request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        principal = replace(await request.app.state.jwt_verifier.verify(token), via="session")
    except Unauthorized:
        raise LoginRequired() from None
    except KeySetUnavailable:
        raise PageError(503, "Chưa kiểm tra được phiên đăng nhập", "Vui lòng thử lại sau ít phút.") from None
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def install_signed_in_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    """`install_pages`, then: no session → intake's sign-in page; a PageError → error.html with its status."""
    install_pages(app, templates)

    async def login_required(request: Request, _: Exception) -> Response:
        return redirect(request, f"{intake_url(request)}/dang-nhap")

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        context = {"title": exc.title, "message": exc.message, "back_url": exc.back_url, "back_label": exc.back_label}
        return render(templates, request, "error.html", context, status_code=exc.status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)
