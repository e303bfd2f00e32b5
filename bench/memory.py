"""Memory: each service's resident memory idle and under load, and the Kafka broker's heap (issue 9: each
service < 150 MB idle).

RSS is psutil's, of the service's process and its children, in MB (10^6 bytes). Idle: after /readyz and a
settle of bench.stack.SETTLE_S, before any province is loaded (the figure the target is about); the notes also
give it after the e2e suite's province was loaded. Under load: the highest of the samples taken every 0.5 s
during the e2e suite's 500/s level (from its first request until its submissions were visible). When the e2e
suite did not run in this process, the services are started here and given a short 500/s load of their own.

Baselines, measured in this run: for a service, the RSS of a minimal FastAPI app under uvicorn (one route, the
same interpreter and packages), the least a service of this stack can weigh; for the broker's heap, its -Xmx.
The heap is read with the JDK's `jcmd <pid> GC.heap_info` (used and committed), under load right after the
500/s level and again now.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from baocao_stack.ports import free_port
from baocao_stack.procs import Proc
from bench import stack as running_stack
from bench.harness import Figure, Infra, say

SUITE = "memory"
TARGET_IDLE_MB = 150
MINIMAL_APP = """
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
"""


async def minimal_service_mb(home) -> float:
    """RSS of a one-route FastAPI app under uvicorn after it answers and the same settle as the services."""
    port = free_port()
    proc = Proc.spawn([sys.executable, "-c", MINIMAL_APP.replace("PORT", str(port))], log_file=home / "minimal-app.log")
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the minimal FastAPI app did not start; see minimal-app.log")
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        await asyncio.sleep(running_stack.SETTLE_S)  # the same settle as the services' idle figure
        return running_stack.rss_mb(proc.pid)
    finally:
        proc.stop()


async def _own_load(infra: Infra, *, quick: bool) -> running_stack.BenchStack:
    """The services started here, idle taken, then a short 500/s load for the peak (the e2e suite did not run)."""
    from bench import e2e

    seconds = 2.0 if quick else 4.0
    bench = await running_stack.running(infra)
    try:
        province = await bench.ensure_province(units=max(50, int(500 * seconds / 8) + 1), plans=8)
        say(f"500/s for {seconds:.0f}s, sampling the services' memory")
        level = await e2e.services_level(bench, province, province.slots(), 500, seconds)
        bench.peak_mb, bench.heap_under_load = level["peak_mb"], level["heap"]
        bench.peak_load = f"500/s first submissions for {seconds:.0f}s ({level['run'].by_status()})"
    finally:
        await running_stack.stop()
    return bench


async def run(infra: Infra, *, quick: bool) -> list[Figure]:
    bench = running_stack.last()
    reused = bench is not None and bool(bench.peak_mb)
    if not reused:
        bench = await _own_load(infra, quick=quick)
    say("a minimal FastAPI app for the services' baseline")
    minimal = await minimal_service_mb(infra.home)
    heap_now = await asyncio.to_thread(running_stack.kafka_heap, infra.broker.pid)
    source = "the e2e suite's services" if reused else "services started by this suite"
    figures = []
    for name, idle in bench.idle_mb.items():
        figures.append(
            Figure(
                suite=SUITE,
                name=f"{name} RSS idle",
                value=idle,
                unit="MB",
                baseline=minimal,
                baseline_name="minimal FastAPI app",
                target=f"< {TARGET_IDLE_MB} MB idle",
                met=bool(idle < TARGET_IDLE_MB),
                higher_is_better=False,
                notes={
                    "measures": f"RSS of the process and its children after /readyz and a {running_stack.SETTLE_S:g}s"
                    " settle, no province loaded",
                    "after_province_loaded_mb": round(bench.loaded_mb.get(name, float("nan")), 1),
                    "services": source,
                },
            )
        )
    for name, peak in bench.peak_mb.items():
        figures.append(
            Figure(
                suite=SUITE,
                name=f"{name} RSS under load (peak)",
                value=peak,
                unit="MB",
                baseline=minimal,
                baseline_name="minimal FastAPI app",
                higher_is_better=False,
                notes={"measures": "highest RSS sampled every 0.5 s", "load": bench.peak_load, "services": source},
            )
        )
    for label, heap in (("under load", bench.heap_under_load or {}), ("after the run's suites", heap_now)):
        for part in ("used", "committed"):
            figures.append(
                Figure(
                    suite=SUITE,
                    name=f"Kafka heap {part}, {label}",
                    value=heap.get(f"{part}_mb", float("nan")),
                    unit="MB",
                    baseline=heap.get("xmx_mb"),
                    baseline_name="-Xmx",
                    higher_is_better=False,
                    notes={"measures": "jcmd GC.heap_info of the broker", **heap},
                )
            )
    say(
        "idle MB "
        + ", ".join(f"{k} {v:.0f}" for k, v in bench.idle_mb.items())
        + f"; minimal app {minimal:.0f}; peak MB "
        + ", ".join(f"{k} {v:.0f}" for k, v in bench.peak_mb.items())
    )
    return figures
