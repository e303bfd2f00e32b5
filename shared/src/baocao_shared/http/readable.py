"""ASGI middleware every service shares: refuse with a 4xx, before any handler runs, input that no handler
could read or store, so that it never becomes a 500 deep in a database driver.

- `%00` in the path or the query string (a NUL reaches SQL parameters: PostgreSQL refuses it) -> 400;
- a JSON, YAML or text body that is not UTF-8 (latin-1, UTF-16 with its BOM, ...) -> 400 (RFC 8259 §8.1);
- a JSON body nested more than MAX_DEPTH levels, or with a number of more than 4300 digits -> 400;
- a JSON string (or key) holding NUL or a lone surrogate (`"\\u0000"`, `"\\ud800"`) -> 422 naming where.

Malformed JSON passes on: FastAPI answers it with 422 `json_invalid`. The body is read here whole, so this
middleware sits inside BodySizeLimit, which bounds it (and answers 413 while it is read).
"""

from __future__ import annotations

import json
from email.message import Message as MimeHeader

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baocao_shared.http.errors import error_body
from baocao_shared.text import TooDeep, first_unstorable

MAX_DEPTH = 32  # a report is 3 levels deep; a province file, as JSON, 8


def _media_type(scope: Scope) -> tuple[str, str]:
    raw = Headers(scope=scope).get("content-type")  # the first, as FastAPI reads it: a second one hides nothing
    if raw is None:
        return "", ""
    header = MimeHeader()
    header["content-type"] = raw
    return header.get_content_maintype(), header.get_content_subtype()


def _is_text(maintype: str, subtype: str) -> bool:
    return maintype == "text" or (maintype == "application" and (_is_json(maintype, subtype) or "yaml" in subtype))


def _is_json(maintype: str, subtype: str) -> bool:
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def problem(body: bytes, *, json_body: bool) -> tuple[int, dict] | None:
    """(status, error body) for a body no handler could read, else None. Pure, for tests too."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bom = " (it starts with a UTF-16 byte order mark)" if body[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return 400, error_body(
            "not_utf8",
            f"The body is not UTF-8 text{bom}: byte 0x{body[exc.start]:02X} at position {exc.start} is not "
            "valid UTF-8. Send it encoded as UTF-8.",
            {"position": exc.start},
        )
    if not json_body:
        return None
    try:
        value = json.loads(text.removeprefix("\ufeff"))  # as FastAPI reads it: a UTF-8 BOM is allowed
    except json.JSONDecodeError:
        return None  # FastAPI says where (422 json_invalid)
    except RecursionError:
        return 400, error_body("too_deep", f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    except ValueError as exc:  # int digits limit
        return 400, error_body("number_too_long", f"The JSON body has a number that cannot be read: {exc}.")
    try:
        found = first_unstorable(value, max_depth=MAX_DEPTH)
    except TooDeep:
        return 400, error_body("too_deep", f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    if found is None:
        return None
    path, character = found
    return 422, error_body(
        "validation_failed",
        f"The request is not valid: text at {'.'.join(map(str, ('body', *path)))} holds {character}, "
        "a character that cannot be stored. Remove it and send again.",
        [{"loc": ["body", *path], "msg": f"{character} is not allowed in text", "type": "invalid_character"}],
    )


class ReadableInput:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if b"%00" in raw_path.lower() or b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await _answer(
                send,
                400,
                error_body("bad_request", "The address holds a NUL character (%00); no name or code has one."),
            )
            return
        maintype, subtype = _media_type(scope)
        if not _is_text(maintype, subtype):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        found = problem(body, json_body=_is_json(maintype, subtype)) if body else None
        if found is not None:
            await _answer(send, *found)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _answer(send: Send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
