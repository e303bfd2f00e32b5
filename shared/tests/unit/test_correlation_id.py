"""Every answer names its request's correlation id, and the log lines written while handling it carry it."""

from __future__ import annotations

import json
import uuid

import httpx
import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from baocao_shared.http.middleware import CorrelationId
from baocao_shared.logging import configure_logging


def app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationId)

    @app.get("/v1/work")
    async def work() -> JSONResponse:
        structlog.get_logger("t").info("work.done")
        return JSONResponse({"ok": True}, headers={"X-Correlation-ID": "set-by-the-route"})

    return app


def logged(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


async def test_the_callers_id_comes_back_and_marks_the_log_lines(capsys):
    configure_logging("test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as client:
        answer = await client.get("/v1/work", headers={"X-Correlation-ID": "req-42"})
    assert answer.status_code == 200 and answer.headers.get_list("x-correlation-id") == ["req-42"]
    [line] = [entry for entry in logged(capsys) if entry["event"] == "work.done"]
    assert line["correlation_id"] == "req-42"
    assert "correlation_id" not in structlog.contextvars.get_contextvars()  # not left to the next request


async def test_without_one_each_request_gets_a_new_uuid(capsys):
    configure_logging("test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://t") as client:
        first, second = [(await client.get("/v1/work")).headers["x-correlation-id"] for _ in range(2)]
    assert first != second and all(uuid.UUID(value) for value in (first, second))
    assert [entry["correlation_id"] for entry in logged(capsys) if entry["event"] == "work.done"] == [first, second]
