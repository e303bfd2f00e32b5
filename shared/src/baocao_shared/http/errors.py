"""Domain errors as HTTP answers, in one place: {"error": {"code", "message", "details"}} with its status.

`STATUS` maps each kind of `baocao_shared.errors.DomainError` to its status; a named error (a service's
`PeriodLocked`) answers with the status of its kind. `install_error_handlers(app)` answers every error in
that shape and documents it in the app's OpenAPI document: every 4xx/5xx response there has the `ErrorOut`
schema (FastAPI's own 422 `HTTPValidationError` is replaced, since the handler never answers with it),
every operation that needs a token lists 401, every operation with parameters or a body lists 400 (input
no handler could read: baocao_shared.http.readable), and every operation with a body lists 413
(baocao_shared.http.middleware.BodySizeLimit) and 415 (not the documented media type). The other errors a
route may answer are the route's to declare: `responses=error_responses(403, 404)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from baocao_shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)

# The status of each kind of refusal; the first kind in an error's class hierarchy decides.
STATUS: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    TooManyRequests: 429,
    Unavailable: 503,
    DomainError: 400,
}


def status_of(error: DomainError) -> int:
    return next(STATUS[kind] for kind in type(error).__mro__ if kind in STATUS)


def headers_of(error: DomainError) -> dict[str, str] | None:
    """RFC 6750: a 401 names the scheme; a 429 says when to try again."""
    if isinstance(error, Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, TooManyRequests):
        return {"Retry-After": str(error.retry_after_s)}
    return None


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def error_answer(error: DomainError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, jsonable_encoder(error.details)),
        status_code=status_of(error),
        headers=headers_of(error),
    )


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"], description="stable, for programs: bad_request, forbidden, ...")
    message: str = Field(description="for people")
    details: Any = Field(None, description="what exactly: for a 422 the problems, each with its loc and msg")


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "The request cannot be understood",
    401: "No token, or one that does not verify (see WWW-Authenticate)",
    403: "The caller's role or scope does not allow this",
    404: "No such thing, or none the caller may see",
    409: "It conflicts with the current state",
    413: "The body is over the size limit",
    415: "The body is not of the documented media type",
    422: "The request is not valid; `details` lists each problem",
    429: "Too many attempts; see Retry-After",
    503: "A dependency (Kafka, intake's keys) does not answer; try again shortly",
}


def error_response(description: str) -> dict:
    """One documented error answer, for a route's `responses=`: `{409: error_response("The period is locked")}`."""
    return {"model": ErrorOut, "description": description}


def error_responses(*statuses: int) -> dict[int, dict]:
    """Documented error answers with their usual description, for a route's or a router's `responses=`."""
    return {status: error_response(ERROR_DESCRIPTIONS[status]) for status in statuses}


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
    _document_errors(app)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_answer(exc)

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


_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def _document_errors(app: FastAPI) -> None:
    """Make the app's OpenAPI document say what the handlers above answer (see the module's docstring)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()  # FastAPI caches it in app.openapi_schema: completed here in place, once
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs"))
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components["ErrorOut"].pop("$defs", None)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if operation.get("security"):
                    responses.setdefault("401", {"description": ERROR_DESCRIPTIONS[401]})
                if "parameters" in operation or "requestBody" in operation:
                    responses.setdefault("400", {"description": "Input no handler could read (%00, not UTF-8, ...)"})
                if "requestBody" in operation:
                    responses.setdefault("413", {"description": ERROR_DESCRIPTIONS[413]})
                    responses.setdefault("415", {"description": ERROR_DESCRIPTIONS[415]})
                for status, response in responses.items():
                    if status.isdigit() and int(status) >= 400:
                        media = response.setdefault("content", {}).setdefault("application/json", {})
                        if media.get("schema", _FASTAPI_422) == _FASTAPI_422:  # a route's own model stays
                            media["schema"] = _ERROR_REF
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return schema

    app.openapi = openapi
