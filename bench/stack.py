"""The four services as processes on the run's servers, shared by the e2e and memory suites.

`await running(infra)` starts intake, deadlines, consolidation and notify once (baocao_testing.processes, as
the e2e and fault tests do) with the services' own default intervals, takes their resident memory idle after a
settle, and loads the synthetic province (bench/province.py). The e2e suite uses them and records its samples
here; the memory suite reuses those samples when e2e ran in the same process, and otherwise starts them itself.
`stop()` stops every process by its pid.

BENCH_PROFILE=deadlines,consolidation (any of the four) restarts those services under pyinstrument after
the idle memory is taken; each writes its text profile to artifacts/profiles/<service>.txt when stopped.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psutil

from baocao_stack.procs import Proc
from baocao_testing.processes import SERVICES, Services, Stack
from bench.harness import REPO, Infra, say
from bench.province import CLOCK_AT, Province, Signer, load_province

# The services' own defaults (baocao_testing.processes tunes these down for tests, where the clock jumps).
DEFAULTS = {name: {"BAOCAO_OUTBOX_POLL_INTERVAL_S": "1.0"} for name in SERVICES}
DEFAULTS["deadlines"]["BAOCAO_SCHEDULER_TICK_S"] = "1.0"
# Intake's worker processes in the e2e and memory suites (BAOCAO_WORKERS; the intake suite runs each count itself).
DEFAULTS["intake"]["BAOCAO_WORKERS"] = os.environ.get("BENCH_E2E_INTAKE_WORKERS", "1")
PROVINCE_CODE = "88"
PROFILES = REPO / "artifacts" / "profiles"
PROFILE_STOP_S = 120
SETTLE_S = 5.0  # after /readyz: migrations done, consumers joined their groups, first relay and scheduler rounds


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (10^6 bytes)."""
    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        return float("nan")
    return total / 1e6


def kafka_heap(pid: int) -> dict:
    """The broker's Java heap as the JDK's jcmd reports it (GC.heap_info), and its -Xmx, in MB."""
    found: dict = {"xmx_mb": _xmx_mb(pid)}
    try:
        out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**found, "error": repr(exc)}
    return {**found, **parse_heap_info(out)}


def parse_heap_info(out: str) -> dict:
    """Committed and used MB of the heap line of `jcmd GC.heap_info` ("garbage-first heap   total 339968K,
    used 182596K" up to JDK 20, "total reserved ...K, committed ...K, used ...K" from JDK 21 on)."""
    heap = re.search(r"heap\s+total (?:reserved \d+K, committed )?(\d+)K, used (\d+)K", out)
    if heap is None:
        return {"error": out[-500:]}
    return {
        "committed_mb": int(heap.group(1)) * 1024 / 1e6,
        "used_mb": int(heap.group(2)) * 1024 / 1e6,
        "jcmd": " ".join(out.split())[:300],
    }


def _xmx_mb(pid: int) -> float:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    for arg in psutil.Process(pid).cmdline():
        if arg.startswith("-Xmx"):
            size = arg[4:].lower()
            return int(size[:-1]) * units[size[-1]] / 1e6 if size[-1] in units else int(size) / 1e6
    return float("nan")


@dataclass
class BenchStack:
    services: Services
    stack: Stack
    signer: Signer
    http: httpx.AsyncClient
    province: Province | None = None
    idle_mb: dict[str, float] = field(default_factory=dict)  # after start and SETTLE_S, before any province
    loaded_mb: dict[str, float] = field(default_factory=dict)  # idle again, after the province's catalogue
    peak_mb: dict[str, float] = field(default_factory=dict)  # the highest sample under load
    peak_load: str = ""  # which load the peak was taken under
    kafka_pid: int = 0
    heap_under_load: dict | None = None  # the broker's heap right after the 500/s load (kafka_heap)
    start_s: float = 0.0

    @property
    def urls(self) -> dict[str, str]:
        return self.stack.urls

    def pids(self) -> dict[str, int]:
        return {name: self.services.procs[name].pid for name in SERVICES}

    def rss(self) -> dict[str, float]:
        return {name: rss_mb(pid) for name, pid in self.pids().items()}

    async def ensure_province(self, *, units: int, plans: int) -> Province:
        if self.province is None:
            say(f"loading province {PROVINCE_CODE}: {units} units x {plans} plans")
            self.province = await load_province(
                self.http, self.urls, self.signer, code=PROVINCE_CODE, units=units, plans=plans
            )
            say(f"province known everywhere after {self.province.load_s:.1f}s")
            self.loaded_mb = self.rss()
        return self.province


class PeakSampler:
    """Samples the services' RSS every `interval` seconds in a thread until stopped; keeps each one's peak."""

    def __init__(self, stack: BenchStack, interval: float = 0.5) -> None:
        self._stack, self._interval = stack, interval
        self.peak: dict[str, float] = {}
        self.samples = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> PeakSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            for name, mb in (await asyncio.to_thread(self._stack.rss)).items():
                self.peak[name] = max(self.peak.get(name, 0.0), mb)
            self.samples += 1
            try:
                await asyncio.wait_for(self._stop.wait(), self._interval)
            except TimeoutError:
                pass


_shared: BenchStack | None = None
_last: BenchStack | None = None  # the stack stopped last, with its memory figures


async def running(infra: Infra) -> BenchStack:
    """The services of this run, started on first use."""
    global _shared
    if _shared is not None:
        return _shared
    home = infra.home / "services"
    home.mkdir(parents=True, exist_ok=True)
    services = Services(postgres=infra.postgres, kafka=infra.kafka, home=home)
    started = time.monotonic()
    say("starting intake, deadlines, consolidation and notify")
    try:
        stack = await services.start(at=CLOCK_AT, env=DEFAULTS, consumer_group_prefix=f"b{uuid.uuid4().hex[:6]}-")
    except BaseException:
        services.stop()
        raise
    bench = BenchStack(
        services=services,
        stack=stack,
        signer=Signer(home),
        http=httpx.AsyncClient(timeout=30),
        kafka_pid=infra.broker.pid,
    )
    bench.start_s = time.monotonic() - started
    say(f"services ready after {bench.start_s:.1f}s; settling {SETTLE_S:.0f}s for their idle memory")
    await asyncio.sleep(SETTLE_S)  # the settle of "idle" memory, not a synchronisation
    bench.idle_mb = bench.rss()
    _shared = bench
    for name in filter(None, os.environ.get("BENCH_PROFILE", "").split(",")):
        await _profiled(services, name)
    return bench


async def _profiled(services: Services, name: str) -> None:
    """Run `name` again under pyinstrument (wall-clock, async-aware), on the same database and port."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    out = PROFILES / f"{name}.txt"
    services.stop_instance(name)
    services.procs[name] = Proc.spawn(
        [sys.executable, "-m", "bench.profiled", name, str(out)],
        log_file=services.log_file(name),
        env={**services.stack.env[name], "PYTHONPATH": str(REPO)},
        cwd=services.home,
    )
    await services._ready(name)
    say(f"{name} runs under pyinstrument; its profile goes to {out}")


def last() -> BenchStack | None:
    """The services that ran last in this process (running or stopped), with what was measured of them."""
    return _shared or _last


async def stop() -> None:
    """Stop the services by pid (SIGTERM, then SIGKILL after baocao_testing.processes' bound)."""
    global _shared, _last
    if _shared is None:
        return
    bench, _shared = _shared, None
    _last = bench
    try:
        await bench.http.aclose()
    finally:
        for name in filter(None, os.environ.get("BENCH_PROFILE", "").split(",")):
            # pyinstrument renders the profile after the service exits: give it time before any SIGKILL
            await asyncio.to_thread(bench.services.procs[name].stop, signal.SIGTERM, PROFILE_STOP_S)
        await asyncio.to_thread(bench.services.stop)
