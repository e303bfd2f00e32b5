"""ASGI middleware every service shares: a request-body limit that answers 413 before reading on, and the
security headers on every answer; the API documentation pages with a policy that admits their scripts."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid

import structlog
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baocao_shared.http.errors import error_body

# Every answer (pages, the JSON API, errors, static files) carries these unless it set its own.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# /docs and /redoc load Swagger UI and ReDoc from their CDN; the one inline script is admitted by its hash.
DOCS_CDN = "https://cdn.jsdelivr.net"


class SecurityHeaders:
    """Add SECURITY_HEADERS to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class CorrelationId:
    """Each request's correlation id (the caller's X-Correlation-ID, else a new UUID): bound to the log
    context while the request is handled, and sent back in the answer's X-Correlation-ID header.

    Plain ASGI, not Starlette's BaseHTTPMiddleware: that one runs the app in a task of its own and streams
    the answer through a queue, which costs every request of a service more than the rest of its middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = Headers(scope=scope).get("x-correlation-id") or str(uuid.uuid4())
        header = (b"x-correlation-id", correlation_id.encode("latin-1", errors="replace"))

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-correlation-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        try:
            await self.app(scope, receive, with_id)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")


def install_docs(app: FastAPI, title: str) -> None:
    """/docs (Swagger UI) and /redoc, for an app made with docs_url=None and redoc_url=None."""

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        return _with_script_hashes(get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{title} - Swagger UI"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _with_script_hashes(get_redoc_html(openapi_url=app.openapi_url, title=f"{title} - ReDoc"))


def _with_script_hashes(page: HTMLResponse) -> HTMLResponse:
    """The page's CSP: scripts from the CDN and the inline scripts it has, by hash; never 'unsafe-inline'."""
    inline = re.findall(r"<script>(.*?)</script>", page.body.decode(), flags=re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline)
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; "
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com; "
        "font-src 'self' https://fonts.gstatic.com; "
        f"img-src 'self' data: {DOCS_CDN} https://fastapi.tiangolo.com; worker-src 'self' blob:; "
        "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    )
    return page


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413, by Content-Length or while streaming; a file upload
    (multipart/form-data, which only the pages that take a file use) may reach `max_upload_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max(max_upload_bytes or 0, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)  # the first of a repeated header, as Starlette and FastAPI read it
        declared = headers.get("content-length")
        # A page's form is refused by its handler, in words and a page a person reads (csrf.checked_form):
        # it reads no more than the limit either.
        kind = headers.get("content-type", "").lower()
        form = kind.startswith("application/x-www-form-urlencoded")
        limit = self.max_upload_bytes if kind.startswith("multipart/form-data") else self.max_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit and not form:
            await self._too_large(send)
            return
        seen = 0
        responded = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not responded:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(error_body("payload_too_large", too_large_message(self.max_bytes))).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised from `receive` mid-body. An HTTPException, so FastAPI's body parsing passes it on as a 413
    (it answers any other error there with 400) and a page's form handler can answer it in its own words."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large_message(max_bytes))


def too_large_message(max_bytes: int) -> str:
    return f"The request body is larger than the {max_bytes // 1024} KiB this service accepts; shorten it, send again."
