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

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

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


def set_cookie(request: Request, response: Response) -> None:
    """Send the token cookie when this request made a new one."""
    if getattr(request.state, "csrf_new", False):
        response.set_cookie(
            COOKIE,
            request.state.csrf_token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def check(request: Request, form: FormData) -> None:
    """Raise CsrfRejected unless the form's token equals the cookie's."""
    cookie = request.cookies.get(COOKIE) or ""
    sent = form.get(FIELD)
    if not cookie or not isinstance(sent, str) or not secrets.compare_digest(cookie.encode(), sent.encode()):
        raise CsrfRejected()


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked (a FastAPI dependency)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    check(request, form)
    return form


CsrfForm = Annotated[FormData, Depends(checked_form)]
