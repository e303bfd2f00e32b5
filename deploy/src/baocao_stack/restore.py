"""`baocao-stack restore DIR`: a backup of `baocao-stack backup` into an empty stack.

The stack must be up without services (`make clean && make up SERVICES=none DEMO=0`). In order: every file's sha256
is checked against the manifest; the target is refused unless it is empty (no table in a service database, no record
in a topic, no consumer group, no generated key that differs); each database is restored with `pg_restore`; the
topics are created with the backup's partition counts and settings and their records produced back, partition by
partition, in order; each consumer group's offsets are committed, translated to the new offsets. The mapping is kept
in `<BAOCAO_HOME>/restored/offsets.json`. Then the stack is stopped: `make up DEMO=0` starts it with the services.
"""

from __future__ import annotations

import asyncio
import filecmp
import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from rich.console import Console

from .backup import (
    HOME_FOLDERS,
    MANIFEST,
    BackupError,
    pg_tool,
    run_pg_tool,
    running_services,
    running_stack,
    sha256_of,
)
from .backup_kafka import (
    GroupOffsets,
    PartitionDump,
    TopicDump,
    kafka_is_empty,
    offset_runs,
    produce_records,
    recreate_topics,
    restore_groups,
)
from .postgres import HOST, SUPERUSER, ensure_databases
from .running import down
from .settings import StackSettings


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no {MANIFEST}: not a backup of `baocao-stack backup`") from None
    if manifest.get("format") != 1:
        raise BackupError(f"{folder / MANIFEST}: format {manifest.get('format')!r}, this restore reads format 1")
    return manifest


def verify(folder: Path, manifest: dict, console: Console) -> None:
    """Every file of the manifest is there with its sha256, before anything is written."""
    bad = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            bad.append(f"{name}: missing")
        elif sha256_of(path) != entry["sha256"]:
            bad.append(f"{name}: sha256 differs from the manifest's")
    if bad:
        raise BackupError(f"the backup in {folder} is damaged; nothing was restored:\n  " + "\n  ".join(bad))
    total = sum(entry["size"] for entry in manifest["files"].values())
    console.print(f"  {len(manifest['files'])} files, {total / 1e6:.1f} MB: every sha256 matches the manifest")


async def _tables(settings: StackSettings, names: list[str]) -> list[str]:
    """The service databases that hold tables."""
    full = []
    for name in names:
        conn = await asyncpg.connect(settings.database_url(name, "postgresql"), timeout=10)
        try:
            count = await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        finally:
            await conn.close()
        if count:
            full.append(f"database {name} ({count} tables)")
    return full


def _not_empty(settings: StackSettings, manifest: dict) -> list[str]:
    names = [db["name"] for db in manifest["databases"]]
    asyncio.run(ensure_databases(settings.database_url("postgres", "postgresql"), names))
    found = asyncio.run(_tables(settings, names))
    found += asyncio.run(kafka_is_empty(settings.kafka_bootstrap))
    for name in HOME_FOLDERS:
        here = settings.home / name
        if here.is_dir() and any(here.iterdir()):
            comparison = filecmp.dircmp(here, Path(manifest["_folder"]) / "home" / name)
            if comparison.diff_files or comparison.left_only:
                found.append(f"{here} (other keys than the backup's)")
    return found


def restore(settings: StackSettings, folder: Path, console: Console) -> int:
    started = time.monotonic()
    folder = folder.resolve()
    paths, settings = running_stack(settings)
    if services := running_services(paths):
        raise BackupError(f"services run in {settings.home} ({', '.join(services)}): restore goes into a stack "
                          "without services (`make clean && make up SERVICES=none DEMO=0`)")  # fmt: skip
    console.print(f"==> checking the backup in {folder}")
    manifest = read_manifest(folder)
    verify(folder, manifest, console)
    manifest["_folder"] = str(folder)
    console.print(f"==> checking that the stack in {settings.home} is empty")
    if found := _not_empty(settings, manifest):
        raise BackupError(
            f"refusing to restore into a stack that holds data ({'; '.join(found)}). Restore goes into an empty "
            "stack: `make clean && make up SERVICES=none DEMO=0`, then `baocao-stack restore DIR` again"
        )
    console.print("==> PostgreSQL")
    for db in manifest["databases"]:
        began = time.monotonic()
        args = [pg_tool("pg_restore"), "-h", HOST, "-p", str(settings.pg_port), "-U", SUPERUSER,
                "--dbname", db["name"], "--exit-on-error", "--single-transaction", "--no-owner",
                str(folder / db["file"])]  # fmt: skip
        run_pg_tool(args, f"pg_restore of {db['name']}")
        console.print(f"  {db['name']} restored ({time.monotonic() - began:.1f}s)")
    console.print("==> Kafka")
    topics = [
        TopicDump(**{**t, "partitions": [PartitionDump(**p) for p in t["partitions"]]}) for t in manifest["topics"]
    ]
    groups = [GroupOffsets(g["group"], [tuple(o) for o in g["offsets"]]) for g in manifest["groups"]]
    bootstrap = settings.kafka_bootstrap
    asyncio.run(
        recreate_topics(
            bootstrap, topics, replication_factor=settings.kafka_cluster.replication_factor, say=console.print
        )
    )
    written = asyncio.run(produce_records(bootstrap, folder, topics, console.print))
    committed = asyncio.run(restore_groups(bootstrap, groups, written, console.print))
    for name in HOME_FOLDERS:
        source = folder / "home" / name
        if source.is_dir():
            shutil.copytree(source, settings.home / name, dirs_exist_ok=True)
            console.print(f"  home: {name}/ put back")
    record = settings.home / "restored" / "offsets.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps(
            {
                "restored_at": datetime.now(UTC).isoformat(),
                "from": str(folder),
                "backup_created_at": manifest["created_at"],
                "offsets": {tp: offset_runs(old) for tp, old in written.items()},  # [old start, new start, length]
                "groups": committed,
            },
            indent=1,
        )
    )
    records = sum(len(old) for old in written.values())
    console.print(
        f"[green]restored in {time.monotonic() - started:.1f}s:[/green] {len(manifest['databases'])} databases, "
        f"{len(topics)} topics ({records} records), {len({c['group'] for c in committed})} consumer groups "
        f"(the offset mapping in {record})"
    )
    console.print("==> stopping the stack: `make up DEMO=0` starts it with the services on the restored data")
    down(settings.home, console)
    return 0
