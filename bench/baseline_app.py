"""The intake benchmark's baseline: the least a JSON-over-HTTP write can cost on this stack.

One FastAPI endpoint, `POST /v1/submissions`, that parses the JSON body and INSERTs it in one statement
through an asyncpg pool, then answers 201 with the new row's id. It runs as its own process, served exactly
as baocao_shared.runtime.serve serves intake (one uvicorn worker, same settings), on a database of the same
PostgreSQL, with a pool as large as intake's (SQLAlchemy's 10 + 20 overflow = 30 connections).

    BENCH_BASELINE_DSN=postgresql://... BENCH_BASELINE_PORT=8123 python -m bench.baseline_app

BENCH_BASELINE_WORKERS=N runs N uvicorn worker processes (each with its own pool), as BAOCAO_WORKERS does for intake.
"""

from __future__ import annotations

import json
import os
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TABLE = "baseline_submissions"
POOL_MIN, POOL_MAX = 10, 30  # intake's engine: pool_size=10, max_overflow=20


def create_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX)
        async with pool.acquire() as conn:
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(id bigserial PRIMARY KEY, body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
            )
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="Baseline: one INSERT", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.post("/v1/submissions", status_code=201)
    async def submit(body: dict[str, Any], request: Request) -> JSONResponse:
        row_id = await request.app.state.pool.fetchval(
            f"INSERT INTO {TABLE} (body) VALUES ($1::jsonb) RETURNING id", _json(body)
        )
        return JSONResponse({"id": row_id}, status_code=201)

    @app.get("/readyz")
    async def readyz(request: Request) -> dict:
        return {"status": "ready", "rows": await request.app.state.pool.fetchval(f"SELECT count(*) FROM {TABLE}")}

    return app


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker process imports when there are several."""
    return create_app(os.environ["BENCH_BASELINE_DSN"])


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def main() -> None:
    import uvicorn

    # The keyword arguments of baocao_shared.service.serve, so both servers differ only in their app.
    options = {
        "host": "127.0.0.1",
        "port": int(os.environ["BENCH_BASELINE_PORT"]),
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": 5,
        "loop": "asyncio",  # asyncio's own, as baocao_shared.service.LOOP for the services
    }
    workers = int(os.environ.get("BENCH_BASELINE_WORKERS", "1"))
    if workers > 1:
        uvicorn.run("bench.baseline_app:app_from_env", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(os.environ["BENCH_BASELINE_DSN"]), **options)


if __name__ == "__main__":
    main()
