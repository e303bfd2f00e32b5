# syntax=docker/dockerfile:1
#
# One image recipe for the four Baocao services (intake, deadlines, consolidation, notify).
# Build from the repository root; docker-compose.yml does this for every service:
#
#   docker build -f deploy/docker/service.Dockerfile \
#       --build-arg SERVICE=intake --build-arg PORT=8001 -t baocao/intake .
#
# The service runs from its source tree, installed editable: each service finds its Alembic
# migrations at services/<name>/migrations relative to its source, so /app keeps the layout of the
# repository (shared/ and services/<name>/ side by side). Do not switch to --no-editable.

ARG PYTHON_IMAGE=python:3.11-slim
# Any uv that reads the revision of uv.lock (0.9 does).
ARG UV_VERSION=0.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG SERVICE
ARG PORT
RUN if [ -z "${SERVICE}" ] || [ -z "${PORT}" ]; then \
        echo "build args SERVICE and PORT are required: intake 8001, deadlines 8002, consolidation 8003, notify 8004" >&2; \
        exit 1; \
    fi

COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Third-party dependencies first, in a layer that is reused until uv.lock or a pyproject.toml
# changes. uv reads the whole workspace (the root pyproject names every member), so every
# member's pyproject.toml is copied; only the dependencies of baocao-${SERVICE} are installed.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY deploy/pyproject.toml deploy/
COPY testing/pyproject.toml testing/
COPY services/intake/pyproject.toml services/intake/
COPY services/deadlines/pyproject.toml services/deadlines/
COPY services/consolidation/pyproject.toml services/consolidation/
COPY services/notify/pyproject.toml services/notify/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "baocao-${SERVICE}"

# Then the code: the shared kernel and this one service (with its migrations/).
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN test -f "services/${SERVICE}/src/${SERVICE}/__main__.py" \
    || { echo "no service named '${SERVICE}' (services/${SERVICE}/src/${SERVICE}/__main__.py)" >&2; exit 1; }
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package "baocao-${SERVICE}" \
 && /app/.venv/bin/python -m compileall -q shared/src "services/${SERVICE}/src" \
 && /app/.venv/bin/python -c "import ${SERVICE}.main"

# ---------------------------------------------------------------------------------------------
# The runtime image: the same Python, the virtualenv and the sources; no uv, no build tools.
FROM ${PYTHON_IMAGE} AS runtime

ARG SERVICE
ARG PORT

LABEL org.opencontainers.image.title="baocao-${SERVICE}" \
      org.opencontainers.image.description="Baocao ${SERVICE} service"

RUN groupadd --system --gid 10001 baocao \
 && useradd --system --uid 10001 --gid baocao --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin baocao

# Owned by root and read-only for the service user: the service writes nothing to its own tree.
COPY --from=build /app /app
WORKDIR /app

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_MODULE=${SERVICE} \
    BAOCAO_HTTP_HOST=0.0.0.0 \
    BAOCAO_HTTP_PORT=${PORT}

USER 10001:10001
EXPOSE ${PORT}

# Liveness only (slim has no curl): readiness (/readyz: DB and Kafka) is the orchestrator's check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['BAOCAO_HTTP_PORT'] + '/healthz', timeout=4)"]

# exec: python becomes PID 1 and receives SIGTERM from `docker stop` directly.
CMD ["/bin/sh", "-c", "exec python -m \"$APP_MODULE\""]
