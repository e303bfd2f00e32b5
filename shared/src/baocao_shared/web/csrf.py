"""CSRF protection of form posts: a double-submit token.

A random token lives in the `baocao_csrf` cookie (SameSite=Strict, HttpOnly) and in a hidden field
of every form the server renders; a POST is accepted only when the two match. Another site can make
a browser send the cookie (not even that, with SameSite=Strict), but cannot read it to fill the field.

    @router.post("/trang")
    async def post(request: Request, form: CsrfForm):   # 403 page when the token is missing or wrong
        ...
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from baocao_shared.text import bad_character

COOKIE = "baocao_csrf"
FIELD = "csrf_token"
MAX_FORM_FIELDS = 200  # a report of plan 467 has ~20 fields; far more means something is wrong


class CsrfRejected(Exception):
    """A form post without the token of this browser's cookie; the service answers with a 403 page."""


def token(request: Request) -> str:
    """This browser's token: from its cookie, or a new one that `set_cookie` will send."""
    found = getattr(request.state, "csrf_token", None)
    if found:
        return found
    found = request.cookies.get(COOKIE)
    if not found or len(found) > 100:
        found = secrets.token_urlsafe(32)
        request.state.csrf_new = True
    request.state.csrf_token = found
    return found


def over_https(request: Request) -> bool:
    """Cookies get Secure: the request came over https, or the browser sees this service at an https address
    (behind a proxy that ends TLS, the request itself is plain http)."""
    if request.url.scheme == "https":
        return True
    settings = request.app.state.runtime.settings
    return settings.public_url(settings.service_name).startswith("https://")


def set_cookie(request: Request, response: Response) -> None:
    """Send the token cookie when this request made a new one."""
    if getattr(request.state, "csrf_new", False):
        response.set_cookie(
            COOKIE,
            request.state.csrf_token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=over_https(request),
        )


def check(request: Request, form: FormData) -> None:
    """Raise CsrfRejected unless the form's token equals the cookie's."""
    cookie = request.cookies.get(COOKIE) or ""
    sent = form.get(FIELD)
    if not cookie or not isinstance(sent, str) or not secrets.compare_digest(cookie.encode(), sent.encode()):
        raise CsrfRejected()


class FormRejected(CsrfRejected):
    """A form post that cannot be read (too large, not UTF-8, a NUL); answered with a page saying so."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


FORM_TOO_LARGE = "Biểu mẫu quá lớn (quá {kib} KiB) nên chưa được gửi. Vui lòng rút ngắn phần nội dung dài rồi gửi lại."
FORM_UNREADABLE = (
    "Biểu mẫu không đọc được ({why}) nên chưa được gửi. Vui lòng tải lại trang, nhập lại bằng trình duyệt rồi gửi."
)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked (a FastAPI dependency)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = await request.body()
        if body and media not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise FormRejected(415, FORM_UNREADABLE.format(why="không phải dữ liệu biểu mẫu"))
        if media == "application/x-www-form-urlencoded":
            # Starlette would turn bytes that are not UTF-8 into U+FFFD and store them so.
            parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except HTTPException as exc:
        if exc.status_code == 413:
            kib = request.app.state.runtime.settings.max_body_bytes // 1024
            raise FormRejected(413, FORM_TOO_LARGE.format(kib=kib)) from None
        raise FormRejected(400, FORM_UNREADABLE.format(why=exc.detail)) from None
    except UnicodeDecodeError:
        raise FormRejected(400, FORM_UNREADABLE.format(why="không phải mã UTF-8")) from None
    for value in form.values():
        if isinstance(value, str) and (found := bad_character(value)):
            raise FormRejected(400, FORM_UNREADABLE.format(why=f"có ký tự {found[1]} không hợp lệ"))
    check(request, form)
    return form


CsrfForm = Annotated[FormData, Depends(checked_form)]
