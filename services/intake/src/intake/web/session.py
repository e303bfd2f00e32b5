"""Signing in and out of the web pages: the same use case as POST /v1/auth/token, kept in a cookie.

The session cookie holds the JWT itself (HttpOnly, SameSite=Lax, as long as the token lives), so
every service's `current_principal` reads it like a bearer token.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import math

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared.auth import SESSION_COOKIE
from baocao_shared.web import csrf, redirect, render
from baocao_shared.web.csrf import CsrfForm
from intake.deps import Auth, ClientAddress, Uow
from intake.domain.account_errors import TooManyFailedSignIns, WrongCredentials
from intake.handlers import accounts
from intake.web.pages import LOGIN_PATH, TEMPLATES, safe_next

router = APIRouter(include_in_schema=False)
WRONG_PASSWORD = "Tên đăng nhập hoặc mật khẩu không đúng."
# A username throttled from this address only: the same account signs in from any other address.
USERNAME_THROTTLED = "Từ máy của bạn, tên đăng nhập này đã bị nhập sai mật khẩu nhiều lần."
TOO_MANY_FROM_CLIENT = "Máy của bạn đã đăng nhập sai quá nhiều lần nên tạm thời không được đăng nhập."


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} giây"
    return f"{math.ceil(seconds / 60)} phút"


def _login_page(request: Request, *, next_url: str | None, username: str = "", error: str | None = None, **kw):
    context = {"title": "Đăng nhập", "next_url": next_url or "", "username": username, "error": error}
    return render(TEMPLATES, request, "login.html", context, **kw)


@router.get(LOGIN_PATH)
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=safe_next(next))


@router.post(LOGIN_PATH)
async def login(request: Request, form: CsrfForm, uow: Uow, auth: Auth, client: ClientAddress) -> Response:
    username = str(form.get("username", "")).strip()[:200]
    password = str(form.get("password", ""))
    next_url = safe_next(form.get("next"))
    if not username or not password:
        error = "Vui lòng nhập tên đăng nhập và mật khẩu."
        return _login_page(request, next_url=next_url, username=username, error=error, status_code=422)
    async with uow:  # a failure is recorded even though the answer is an error
        outcome = await accounts.authenticate(uow, auth, username=username, password=password, client=client)
    if isinstance(outcome, TooManyFailedSignIns):
        error = (TOO_MANY_FROM_CLIENT if outcome.limit == "client" else USERNAME_THROTTLED) + (
            f" Vui lòng thử lại sau {_wait_text(outcome.retry_after_s)}."
        )
        headers = {"Retry-After": str(outcome.retry_after_s)}
        return _login_page(request, next_url=next_url, username=username, error=error, status_code=429, headers=headers)
    if isinstance(outcome, WrongCredentials):
        return _login_page(request, next_url=next_url, username=username, error=WRONG_PASSWORD, status_code=401)
    response = redirect(request, next_url or "/")
    response.set_cookie(
        SESSION_COOKIE,
        outcome.access_token,
        max_age=outcome.expires_in,
        path="/",
        httponly=True,
        samesite="lax",
        secure=csrf.over_https(request),
    )
    return response


@router.post("/dang-xuat")
async def logout(request: Request, form: CsrfForm) -> Response:
    response = redirect(request, LOGIN_PATH, flash="Bạn đã đăng xuất.")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=csrf.over_https(request))
    return response
