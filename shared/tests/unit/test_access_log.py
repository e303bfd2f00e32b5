"""serve() runs uvicorn with access_log=False: no service writes a log line per request, also after its
start-up has configured logging again (ServiceRuntime.start calls configure_logging inside the lifespan)."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI

from baocao_shared.logging import configure_logging
from baocao_stack.ports import free_port
from baocao_testing.kit import served


def app_configuring_logs_at_start() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging("test")  # as ServiceRuntime.start does
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/ping-for-the-log-test")
    async def ping() -> dict:
        structlog.get_logger("t").info("handled.ping")
        return {"ok": True}

    return app


def test_requests_are_not_written_to_the_log_one_line_each(capsys):
    configure_logging("test")  # as serve() does before uvicorn starts
    with served(app_configuring_logs_at_start(), free_port(), "access-log-test", access_log=False) as url:
        for _ in range(3):
            assert httpx.get(f"{url}/v1/ping-for-the-log-test", timeout=10).status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines].count("handled.ping") == 3  # the app's own lines are written
    assert not [line for line in lines if "ping-for-the-log-test" in line["event"]]
