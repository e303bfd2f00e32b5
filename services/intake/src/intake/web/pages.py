"""What intake's pages share: their templates, who is signed in, and the answers for errors."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from dataclasses import replace
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from baocao_shared.auth import SESSION_COOKIE
from baocao_shared.errors import Unauthorized
from baocao_shared.principal import Principal, Role
from baocao_shared.web import csrf, install_pages, redirect, render, templates_for
from intake.deps import Auth

TEMPLATES = templates_for(Path(__file__).resolve().parent / "templates")
LOGIN_PATH = "/dang-nhap"


class LoginRequired(Exception):
    """No valid session: the browser goes to the sign-in page, and comes back to `next_url` after."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown, answered with a Vietnamese explanation."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def safe_next(value: object) -> str | None:
    """`value` when it is a path on this site (`/...`), else None: no open redirect to another host."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return None
    if value.startswith(("//", "/\\")) or any(ch in value for ch in "\\\r\n\t") or not value.isprintable():
        return None
    return value


async def page_principal(request: Request, auth: Auth) -> Principal:
    """The signed-in account of the session cookie; otherwise the browser is sent to sign in."""
    token = request.cookies.get(SESSION_COOKIE)
    principal = None
    if token:
        try:
            principal = replace(await auth.verifier.verify(token), via="session")
        except Unauthorized:
            principal = None
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


async def reporter(principal: PagePrincipal) -> Principal:
    if principal.role is not Role.REPORTER:
        raise PageError(
            403,
            "Trang dành cho đơn vị báo cáo",
            "Biểu mẫu nộp báo cáo chỉ dành cho tài khoản của đơn vị báo cáo.",
        )
    return principal


Reporter = Annotated[Principal, Depends(reporter)]


async def office(principal: PagePrincipal) -> Principal:
    """A province's staff office, which enters a report on its units' behalf (an admin does so by the API)."""
    if principal.role is not Role.PROVINCE_OPERATOR:
        raise PageError(
            403,
            "Trang dành cho văn phòng của tỉnh",
            "Nhập hộ báo cáo chỉ dành cho cán bộ văn phòng (phòng Tham mưu) của tỉnh, cho các đơn vị của tỉnh.",
        )
    return principal


Office = Annotated[Principal, Depends(office)]


def install_handlers(app: FastAPI) -> None:
    install_pages(app, TEMPLATES)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        response = redirect(request, f"{LOGIN_PATH}?next={quote(exc.next_url, safe='')}")
        if request.cookies.get(SESSION_COOKIE):
            # expired or from an old key
            response.delete_cookie(
                SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=csrf.over_https(request)
            )
        return response

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        context = {"title": exc.title, "message": exc.message}
        return render(TEMPLATES, request, "error.html", context, status_code=exc.status)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)
