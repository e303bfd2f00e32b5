"""Intake and the baseline app as processes of the intake suite, on their own databases of the run's PostgreSQL:
started with N workers, watched (CPU, connections), stopped by pid."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import asyncpg
import psutil

from baocao_shared.db import asyncpg_dsn
from baocao_shared.events import topics
from baocao_stack.ports import free_port
from baocao_stack.procs import Proc
from baocao_testing.processes import until_ready
from bench.harness import REPO, Infra
from bench.intake_province import PROVINCE


class Servers:
    """Intake and the baseline as processes of ours; stopped by pid in `stop()`."""

    def __init__(self, infra: Infra, workers: int = 1) -> None:
        self.infra = infra
        self.workers = workers
        self.home = infra.home / f"intake-bench-w{workers}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, Proc] = {}
        self.urls: dict[str, str] = {}
        self.logs: dict[str, Path] = {}
        self.monitor: asyncpg.Connection | None = None

    async def start(self) -> None:
        from intake.adapters.keys import generate_key_file

        self.key_file = generate_key_file(self.home / "keys" / "intake-ed25519.pem")
        self.intake_db = await self.infra.create_database("bench_intake")
        baseline_db = await self.infra.create_database("bench_baseline")
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BAOCAO_", "BENCH_")) and k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")
        }
        intake_port, baseline_port = free_port(), free_port()
        intake_env = {
            **inherited,
            "BAOCAO_ENV": "production",
            "BAOCAO_HOME": str(self.home),
            "BAOCAO_JWT_PRIVATE_KEY_FILE": str(self.key_file),
            "BAOCAO_HTTP_HOST": "127.0.0.1",
            "BAOCAO_HTTP_PORT": str(intake_port),
            "BAOCAO_DATABASE_URL": self.intake_db,
            "BAOCAO_KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka.bootstrap,
            "BAOCAO_CONSUMER_GROUP_PREFIX": f"benchintake{uuid.uuid4().hex[:6]}-",
            "BAOCAO_WORKERS": str(self.workers),
            "PYTHONUNBUFFERED": "1",
        }
        intake_cmd = [sys.executable, "-m", "intake"]
        if profile := os.environ.get("BENCH_INTAKE_PROFILE"):
            renderer = {".html": "html", ".pyisession": "pyisession"}.get(Path(profile).suffix, "text")
            intake_cmd = [sys.executable, "-m", "pyinstrument", "-r", renderer, "-o", profile, "-m", "intake"]
        baseline_env = {
            **inherited,
            "BENCH_BASELINE_DSN": asyncpg_dsn(baseline_db),
            "BENCH_BASELINE_PORT": str(baseline_port),
            "BENCH_BASELINE_WORKERS": str(self.workers),
            "PYTHONPATH": str(REPO),
        }
        self._spawn("intake", intake_cmd, intake_env, intake_port)
        self._spawn("baseline", [sys.executable, "-m", "bench.baseline_app"], baseline_env, baseline_port)
        await asyncio.gather(self._ready("intake"), self._ready("baseline"))

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], port: int) -> None:
        self.logs[name] = self.home / f"{name}.log"
        self.urls[name] = f"http://127.0.0.1:{port}"
        self.procs[name] = Proc.spawn(cmd, log_file=self.logs[name], env=env, cwd=REPO)

    async def _ready(self, name: str) -> None:
        await until_ready(self.urls[name], self.procs[name], self.logs[name], name=name)

    def cpu_s(self, name: str) -> float:
        """User + system CPU time of the server and of its worker processes (with workers > 1)."""
        main = psutil.Process(self.procs[name].pid)
        total = 0.0
        for proc in [main, *main.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        # Under pyinstrument SIGINT: uvicorn stops gracefully, then raises KeyboardInterrupt, which pyinstrument
        # catches to write its report (the SIGTERM uvicorn re-raises would end the process before it).
        sig = signal.SIGINT if os.environ.get("BENCH_INTAKE_PROFILE") else signal.SIGTERM
        for proc in self.procs.values():
            proc.stop(sig, 30)

    async def intake_db_counts(self) -> dict[str, int]:
        """What intake's database holds, read on one connection of ours kept for the run (so that the count
        of sessions PostgreSQL began there is intake's alone)."""
        if self.monitor is None:
            self.monitor = await asyncpg.connect(asyncpg_dsn(self.intake_db))
        row = await self.monitor.fetchrow(
            "SELECT (SELECT count(*) FROM submissions WHERE province = $1) AS stored,"
            " (SELECT count(*) FROM outbox WHERE topic = $2 AND sent_at IS NOT NULL) AS sent,"
            " (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS unsent,"
            " (SELECT sessions FROM pg_stat_database WHERE datname = current_database()) AS sessions",
            PROVINCE,
            topics.SUBMISSIONS,
        )
        return dict(row)

    async def close_monitor(self) -> None:
        if self.monitor is not None:
            await self.monitor.close()
