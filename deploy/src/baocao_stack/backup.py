"""`baocao-stack backup DIR`: every service database and every Kafka topic of a running local stack, in one folder.

What "consistent" means here:
- each database is dumped by `pg_dump` (custom format, the stack's own PostgreSQL binaries) in one transaction: a
  snapshot of that database;
- each topic-partition is read up to the end offset taken when the export starts;
- by default the services are stopped first (through supervisord) and started again afterwards, so that nothing
  moves between the first dump and the last offset: databases, topics and committed offsets are one state, and a
  restore gives back exactly that. With `--online` they keep running: each piece is still a snapshot of itself, but
  the pieces are taken at different moments (a restore then replays or re-publishes what happened in between, as
  after a crash: consumers are idempotent, the outbox publishes again).

DIR holds `manifest.json` (versions, databases, topics with their settings and partition counts, the consumer
groups' committed offsets, and the sha256 of every file), `postgres/<db>.dump`, `kafka/<topic>-<partition>.jsonl`
and `home/` (the stack's generated keys: intake's token signing key and the demo signing keys; a backup therefore
holds secrets, keep it as you keep them).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rich.console import Console

from . import supervisor as sv
from .backup_kafka import export_topics
from .paths import KAFKA_POM
from .postgres import HOST, POSTGRES_BIN_PATH, SUPERUSER
from .running import load_state
from .settings import DATABASES, SERVICES, StackSettings
from .stack import wait_service_ready

FORMAT = 1  # of manifest.json
MANIFEST = "manifest.json"
HOME_FOLDERS = ("keys", "signing")  # under BAOCAO_HOME: generated keys the services need to go on as before


class BackupError(RuntimeError):
    """The backup or the restore cannot go on; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pg_tool(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def run_pg_tool(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def versions() -> dict[str, str]:
    pg = subprocess.run([pg_tool("pg_dump"), "--version"], capture_output=True, text=True, check=False).stdout
    kafka = next(
        (line.split(">")[1].split("<")[0] for line in KAFKA_POM.read_text().splitlines() if "<kafka.version>" in line),
        "?",
    )
    return {"pg_dump": pg.strip(), "kafka": kafka, "baocao-stack": metadata.version("baocao-stack")}


def running_stack(settings: StackSettings) -> tuple[sv.SupervisorPaths, StackSettings]:
    """The stack of BAOCAO_HOME, which must be up: its supervisord, and the settings it was started with."""
    paths = sv.SupervisorPaths(settings.home)
    state = load_state(settings.home)
    if sv.read_pid(paths) is None or state is None:
        raise BackupError(f"the stack in {settings.home} is not up: `make up SERVICES=none DEMO=0` starts PostgreSQL "
                          "and Kafka alone")  # fmt: skip
    return paths, StackSettings.from_json(state["settings"])


def running_services(paths: sv.SupervisorPaths) -> list[str]:
    infos = sv.process_info(paths)
    return [name for name in SERVICES if infos.get(name, {}).get("statename") in (sv.RUNNING, sv.STARTING)]


def backup(settings: StackSettings, folder: Path, console: Console, *, online: bool = False) -> int:
    started = time.monotonic()
    folder = folder.resolve()
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    paths, settings = running_stack(settings)
    stopped = [] if online else running_services(paths)
    if stopped:
        console.print(f"==> stopping {', '.join(stopped)} (started again at the end; --online leaves them running)")
        for name in stopped:
            sv.rpc(paths).supervisor.stopProcess(name, True)
    try:
        manifest = _take(settings, folder, console, online=online)
    finally:
        if stopped:
            console.print(f"==> starting {', '.join(stopped)} again")
            for name in stopped:
                sv.start_program(paths, name)
            asyncio.run(_ready(settings, paths, stopped))
    seconds = time.monotonic() - started
    total = sum(entry["size"] for entry in manifest["files"].values())
    records = sum(p["records"] for t in manifest["topics"] for p in t["partitions"])
    console.print(
        f"[green]backed up in {seconds:.1f}s:[/green] {len(manifest['databases'])} databases, "
        f"{len(manifest['topics'])} topics ({records} records), {len(manifest['groups'])} consumer groups; "
        f"{len(manifest['files'])} files, {total / 1e6:.1f} MB in {folder}"
    )
    return 0


async def _ready(settings: StackSettings, paths: sv.SupervisorPaths, names: list[str]) -> None:
    infos = sv.process_info(paths)
    await asyncio.gather(
        *(
            wait_service_ready(
                paths, name, settings.service_url(name), settings.log_file(name), pid=infos[name]["pid"], timeout=120
            )
            for name in names
        )
    )


def _take(settings: StackSettings, folder: Path, console: Console, *, online: bool) -> dict:
    (folder / "postgres").mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "versions": versions(),
        "services_stopped": not online,
        "partitions_setting": settings.partitions,
        "databases": [],
        "topics": [],
        "groups": [],
        "files": {},
    }
    for name in DATABASES:
        began = time.monotonic()
        target = folder / "postgres" / f"{name}.dump"
        args = [pg_tool("pg_dump"), "-h", HOST, "-p", str(settings.pg_port), "-U", SUPERUSER,
                "--format=custom", "--no-owner", "--file", str(target), name]  # fmt: skip
        run_pg_tool(args, f"pg_dump of {name}")
        manifest["databases"].append({"name": name, "file": f"postgres/{name}.dump"})
        console.print(f"  postgres: {name} ({target.stat().st_size / 1e3:.0f} kB, {time.monotonic() - began:.1f}s)")
    topics, groups = asyncio.run(export_topics(settings.kafka_bootstrap, folder, console.print))
    manifest["topics"] = [asdict(topic) for topic in topics]
    manifest["groups"] = [asdict(group) for group in groups]
    console.print(f"  kafka: {len(groups)} consumer groups' committed offsets")
    for name in HOME_FOLDERS:
        source = settings.home / name
        if source.is_dir():
            shutil.copytree(source, folder / "home" / name)
            console.print(f"  home: {name}/ ({sum(1 for p in source.rglob('*') if p.is_file())} files)")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        manifest["files"][str(path.relative_to(folder))] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest
