"""A service as a FastAPI app: the runtime started and stopped with it, the shared middleware, the answers
for errors, the probes, the operators' API over its messaging (baocao_shared.ops), and its own routes.

    def create_app(settings: Settings) -> FastAPI:
        runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, metadata=orm.metadata, consumers=[...])
        return build_service_app(runtime, title="Baocao intake", description="...", routers=[...])
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from pydantic import BaseModel, Field

from baocao_shared.dlq_replay import Replayed, ReplayIn, replay_dead_letter
from baocao_shared.errors import NotFound
from baocao_shared.http.deps import Admin, require
from baocao_shared.http.errors import error_responses, install_error_handlers
from baocao_shared.http.middleware import BodySizeLimit, CorrelationId, SecurityHeaders, install_docs
from baocao_shared.http.readable import ReadableInput
from baocao_shared.logging import configure_logging
from baocao_shared.ops import PipelineStatus, pipeline_status
from baocao_shared.principal import Principal, Role
from baocao_shared.runtime import ServiceRuntime
from baocao_shared.settings import ServiceSettings


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description='"database" and "kafka": "ok", or why not')


MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
LOOP = "asyncio"  # uvicorn's event loop for every service (see `serve`)


def _metrics_registry() -> CollectorRegistry:
    """What /metrics reports: with several worker processes (`serve`), the sum over all of them, from the files
    prometheus-client's multiprocess mode keeps in PROMETHEUS_MULTIPROC_DIR, whichever worker answers; else this
    process's own registry."""
    if not os.environ.get(MULTIPROC_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def probes_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict:
        return {"status": "ok", "service": runtime.settings.service_name}

    @router.get(
        "/readyz",
        summary="The database and Kafka are reachable",
        responses={503: {"description": "Not ready: `checks` says which is not", "model": Readiness}},
    )
    async def readyz(response: Response) -> Readiness:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return Readiness(status="ready" if ready else "not_ready", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(_metrics_registry()), media_type=CONTENT_TYPE_LATEST)

    return router


Reader = Annotated[Principal, Depends(require(Role.ADMIN, Role.NATIONAL_OPERATOR))]


def ops_router(runtime: ServiceRuntime) -> APIRouter:
    """GET /v1/ops/pipeline and POST /v1/ops/dlq/{group}/replay for one service."""
    router = APIRouter(prefix="/v1/ops", tags=["operations"])

    def groups() -> dict[str, list[str]]:
        return {runtime.group_id(spec): list(spec.topics) for spec in runtime.consumers}

    @router.get(
        "/pipeline",
        response_model=PipelineStatus,
        responses=error_responses(403),
        summary="Outbox backlog, consumer lag and dead letters",
    )
    async def get_pipeline(_: Reader) -> PipelineStatus:
        return await pipeline_status(
            service=runtime.settings.service_name,
            engine=runtime.engine,
            outbox=runtime.outbox,
            replays=runtime.dlq_replays,
            bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
            groups=groups(),
        )

    @router.post(
        "/dlq/{group}/replay",
        status_code=202,
        response_model=Replayed,
        responses=error_responses(403, 404, 409, 503),
        summary="Send a dead letter back, once",
    )
    async def post_replay(group: str, body: ReplayIn, principal: Admin) -> Replayed:
        if group not in groups():
            raise NotFound(f"{runtime.settings.service_name} has no consumer group {group!r}.", sorted(groups()))
        return await replay_dead_letter(
            engine=runtime.engine,
            replays=runtime.dlq_replays,
            producer=runtime.producer,
            bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
            group=group,
            partition=body.partition,
            offset=body.offset,
            by=principal.subject,
        )

    return router


def build_service_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.runtime = runtime
    app.add_middleware(ReadableInput)  # inside the body limit, which bounds what it reads
    app.add_middleware(
        BodySizeLimit, max_bytes=runtime.settings.max_body_bytes, max_upload_bytes=runtime.settings.max_upload_bytes
    )
    app.add_middleware(SecurityHeaders)  # the 413 of the body limit gets them too
    app.add_middleware(CorrelationId)  # outermost: every answer names its request's correlation id
    install_docs(app, title)
    install_error_handlers(app)
    app.include_router(probes_router(runtime))
    app.include_router(ops_router(runtime))  # the operators' status page reads every service through it
    for router in routers:
        app.include_router(router)

    return app


def serve(app_factory: Callable[[ServiceSettings], FastAPI], settings: ServiceSettings) -> None:
    """Run one service with uvicorn, logging as JSON from the first line on.

    BAOCAO_WORKERS=N (N > 1) runs N worker processes on the one port through uvicorn's own supervisor: each
    imports `app_factory` by name and calls it without arguments, so it reads the same environment; each has
    its own runtime (pool, producer, relay, consumers, workers), which is safe because instances of a service
    already share one database (see docs/ARCHITECTURE.md, "Worker processes")."""
    import uvicorn

    configure_logging(settings.service_name, settings.log_level)
    options = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        # The peer is the client: X-Forwarded-For is read only where a service names its trusted proxies
        # (intake's BAOCAO_TRUSTED_PROXIES), not from any local process as uvicorn's default would.
        "proxy_headers": False,
        "timeout_graceful_shutdown": 5,
        # asyncio's own event loop, not uvloop (uvicorn's "auto" takes uvloop where it is installed): under uvloop,
        # writing to a connection the broker closed raises RuntimeError, which aiokafka does not catch
        # (aio-libs/aiokafka#1038), and a consumer's group coordination died with it when the fault suite killed the
        # broker: deadlines stopped applying submissions for good. asyncio's transport drops such a write.
        "loop": LOOP,
    }
    if settings.workers > 1:
        # The workers' metrics go to files in one directory (prometheus-client's multiprocess mode), read by
        # /metrics; a fresh one per run unless the deployment names its own (e.g. an emptyDir).
        own = not os.environ.get(MULTIPROC_DIR)
        if own:
            os.environ[MULTIPROC_DIR] = tempfile.mkdtemp(prefix=f"baocao-{settings.service_name}-metrics-")
        try:
            uvicorn.run(factory_path(app_factory), factory=True, workers=settings.workers, **options)
        finally:
            if own:
                shutil.rmtree(os.environ.pop(MULTIPROC_DIR), ignore_errors=True)
    else:
        uvicorn.run(app_factory(settings), **options)


def factory_path(app_factory: Callable[..., FastAPI]) -> str:
    """ "module:name" of a module-level app factory, as uvicorn imports it in each worker process."""
    path = f"{app_factory.__module__}:{app_factory.__qualname__}"
    if "<" in path or app_factory.__module__ == "__main__":
        raise ValueError(f"BAOCAO_WORKERS > 1 needs an app factory importable by name, not {path}")
    return path
