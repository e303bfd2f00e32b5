"""The four services' OpenAPI documents, committed under docs/openapi/, so that a change of the HTTP contract
shows as a diff in review (as shared/schemas/ does for the events).

    uv run python -m baocao_testing.openapi          # write docs/openapi/<service>.json (make openapi)
    uv run python -m baocao_testing.openapi --check  # exit 1 naming each document that drifts from the code

Each document is the one the service serves at /openapi.json, built from `create_app(settings)` with
default settings (no database or broker is reached: the document needs neither).
"""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

REPO = Path(__file__).resolve().parents[3]
OPENAPI_DIR = REPO / "docs" / "openapi"
SERVICES = ("intake", "deadlines", "consolidation", "notify")
NOWHERE = "postgresql+asyncpg://baocao@127.0.0.1:9/baocao"  # the discard port: never connected to


def _factory(service: str) -> tuple[Callable[..., FastAPI], type]:
    module = __import__(f"{service}.main", fromlist=["create_app"])
    config = __import__(f"{service}.config", fromlist=["Settings"])
    return module.create_app, config.Settings


def document(service: str) -> dict:
    """The OpenAPI document `service` serves."""
    create_app, settings_class = _factory(service)
    with tempfile.TemporaryDirectory() as home:
        fields = {"database_url": NOWHERE, "env": "test"}
        if "home" in settings_class.model_fields:
            fields["home"] = Path(home)  # intake keeps a development signing key there
        return create_app(settings_class(**fields)).openapi()


def rendered(service: str) -> str:
    return json.dumps(document(service), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def snapshot_path(service: str) -> Path:
    return OPENAPI_DIR / f"{service}.json"


def drift(service: str) -> str:
    """A unified diff from the committed document to the served one; empty when they agree."""
    path = snapshot_path(service)
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    served = rendered(service)
    if committed == served:
        return ""
    where = path.relative_to(REPO).as_posix()
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True), served.splitlines(keepends=True), f"{where} (committed)", "served"
        )
    )


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = [s for s in SERVICES if drift(s)]
        for service in stale:
            print(f"out of date: {snapshot_path(service).relative_to(REPO)}")
        return 1 if stale else 0
    OPENAPI_DIR.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        snapshot_path(service).write_text(rendered(service), encoding="utf-8")
    print(f"wrote {len(SERVICES)} documents under {OPENAPI_DIR.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
