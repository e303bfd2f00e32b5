"""One error shape for every service: {"error": {"code", "message", "details"}} with a 4xx status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    """A rule said no; `status` and `code` say how the API answers."""

    status = 400
    code = "bad_request"
    default_headers: ClassVar[dict[str, str]] = {}  # sent with every answer of this kind, e.g. WWW-Authenticate

    def __init__(self, message: str, details: Any = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers: dict[str, str] | None = {**self.default_headers, **(headers or {})} or None


class Unauthorized(DomainError):
    """No credentials, or credentials that do not verify (RFC 6750: the answer names the scheme)."""

    status, code = 401, "unauthorized"
    default_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int, details: Any = None) -> None:
        super().__init__(message, details, headers={"Retry-After": str(max(1, int(retry_after_s)))})
        self.retry_after_s = max(1, int(retry_after_s))


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class Unprocessable(DomainError):
    status, code = 422, "validation_failed"


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        status, code, message = _explain(request, exc.errors())
        return JSONResponse(error_body(code, message, jsonable_encoder(details)), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


_WHOLE_BODY_TYPES = {"model_attributes_type", "dict_type", "model_type"}


def _explain(request: Request, errors: Sequence[Any]) -> tuple[int, str, str]:
    """Status, code and message of a validation failure: what a person must change, when it is the body itself."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        where, error = first.get("loc", ("body", "?"))[-1], first.get("ctx", {}).get("error")
        return 422, "validation_failed", f"The body is not valid JSON: {error} at character {where}."
    if tuple(first.get("loc", ())) == ("body",) and first.get("type") in _WHOLE_BODY_TYPES:
        media = request.headers.get("content-type", "")
        if "json" not in media.lower():
            sent = f"it was sent as {media!r}" if media else "it was sent without a Content-Type"
            return 415, "unsupported_media_type", f"The body must be JSON with Content-Type: application/json; {sent}."
        return 422, "validation_failed", "The body must be a JSON object with the fields this operation documents."
    return 422, "validation_failed", "The request is not valid."
