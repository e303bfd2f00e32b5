"""Intake under wrk: submissions per second and p50/p95/p99 at concurrency 1, 8 and 64, beside a baseline.

What runs: intake as a real process (`python -m intake`, BAOCAO_ENV=production with a signing key file, its own
database on the run's PostgreSQL with fsync on, publishing through its outbox to the run's Kafka), and the
baseline (bench/baseline_app.py: FastAPI + an asyncpg pool doing one INSERT of the JSON body), served by the
same uvicorn settings. The suite runs once per worker count in WORKERS (BAOCAO_WORKERS for intake, the same
number of uvicorn workers for the baseline; BENCH_INTAKE_WORKERS=1,2 chooses), each on fresh databases: a figure
per count, the ones above one worker named "..., N workers". Issue 19's targets are judged at the count where intake
does best against the baseline at that same count (the c64 rate ratio), the fairest comparison on the machine; the
figures say which. One synthetic province of UNITS units is loaded into intake and each
unit gets an API token through intake's own API, as a unit's machine client holds one.

The load: Debian's wrk with bench/wrk/submissions.lua. Every request is a unit's first report of a period open
now, of one of PLANS copies of a plan in force, no unit x plan x period twice in the run (the deadline-week hot
path: many units each sending their month once),
with the unit's own API token and an Idempotency-Key of its own, as clients send it. The baseline gets the
same requests. Levels run baseline then intake, close together, so both see the same machine. Only 2xx
count as accepted; other statuses and socket errors are in the figures' notes, and a level with any of them
does not meet its target. Each server's CPU time per 2xx is noted too (a figure at c64): on a shared 2-core
machine it moves less with the other work than the rates do.

After each intake level the suite waits (bounded) until intake's outbox is empty, so the next level starts
from the same state and every accepted submission is shown published: at the end the counts of stored
submissions, of outbox rows sent and of records added to baocao.submissions must be equal, and lie between
the 2xx count and it plus the requests wrk left in flight when it stopped (one per connection per run); else
no target is met. At the end the suite deletes the records it put on baocao.submissions (DeleteRecords), so
the new consumer groups of later suites, which start from the earliest offset, do not replay them.

BENCH_INTAKE_PROFILE=/path/profile.txt runs intake under pyinstrument (a text report written at its stop;
.html or .pyisession for those renderers, `pyinstrument --load FILE` reads a session again); the figures of
such a run are not comparable.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
import uuid
from dataclasses import dataclass

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.records_to_delete import RecordsToDelete

from baocao_shared.events import topics
from baocao_testing.kit import end_offsets
from bench.harness import REPO, Figure, Infra, Stopwatch, say
from bench.intake_province import PROVINCE, Province, prepare_province
from bench.intake_servers import Servers

SUITE = "intake"
LEVELS = (1, 8, 64)
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_INTAKE_WORKERS", "1,2").split(",") if n.strip())
UNITS = 600
DRAIN_TIMEOUT_S = 120
WRK = os.environ.get("BENCH_WRK", "/usr/bin/wrk")
LUA = REPO / "bench" / "wrk" / "submissions.lua"
# Issue 19's targets, each a ratio to the same-run baseline: the rate at c64, the p99 at c8, the CPU per 2xx at c64.
TARGET_RATE_RATIO = 0.4
TARGET_P99_C8_RATIO = 3.0
TARGET_CPU_RATIO = 4.0


@dataclass
class WrkRun:
    """What one wrk run saw, from the script's BENCH_JSON line."""

    server: str
    connections: int
    requests: int
    seconds: float
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_ms: dict[str, float]
    sample: str
    cpu_s: float = math.nan  # the server process's CPU time over the run (intake: until its outbox drained)
    connections_opened: int | None = None  # intake: sessions PostgreSQL began on its database during the run

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= int(status) < 300)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else math.nan

    @property
    def failures(self) -> dict[str, int]:
        """Non-2xx answers by status and socket errors by kind (wrk's `status` error is the non-2xx/3xx count)."""
        bad = {status: n for status, n in self.statuses.items() if not 200 <= int(status) < 300}
        return {**bad, **{k: n for k, n in self.errors.items() if n and k != "status"}}

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "accepted_2xx": self.ok,
            "failures": self.failures,
            "seconds": round(self.seconds, 2),
            "latency_ms": self.latency_ms,
            "server_cpu_ms_per_2xx": round(1000 * self.cpu_s / self.ok, 2) if self.ok else None,
            **({"db_connections_opened": self.connections_opened} if self.connections_opened is not None else {}),
            **({"first_failure": self.sample} if self.sample else {}),
        }


# ------------------------------------------------------------------------------------------------ wrk


async def wrk(url: str, province: Province, *, connections: int, seconds: float, offset: int, name: str) -> WrkRun:
    threads = min(connections, 2)
    tag = f"{name}-{uuid.uuid4().hex[:8]}"
    args = [
        WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url,
        "--", str(province.units_file), str(province.body_file), str(province.slots_file), str(offset), tag,
        str(threads),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=seconds + 60)
    finally:
        if proc.returncode is None:
            proc.kill()  # by its pid: the wrk we started
            await proc.wait()
    line = next((ln for ln in out.decode().splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk against {url} failed ({proc.returncode}): {err.decode()[-800:]} {out.decode()[-800:]}")
    found = json.loads(line.removeprefix("BENCH_JSON "))
    return WrkRun(
        server=name,
        connections=connections,
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        statuses=found["statuses"],
        errors=found["errors"],
        latency_ms={k: round(v / 1000, 2) for k, v in found["latency_us"].items()},
        sample=found["sample"],
    )


# ----------------------------------------------------------------------------------------------- suite


async def run(infra: Infra, *, quick: bool) -> list[Figure]:
    measured = {workers: await run_workers(infra, quick=quick, workers=workers) for workers in WORKERS}

    def ratio(workers: int) -> float:
        mine, base = measured[workers][0][max(LEVELS)]
        return mine.rps / base.rps if base.rps else 0.0

    judged = max(measured, key=ratio)
    say(f"intake: targets judged at {judged} worker(s) (c{max(LEVELS)} ratios: "
        + ", ".join(f"{n}: {ratio(n):.3f}" for n in measured) + ")")  # fmt: skip
    out: list[Figure] = []
    for workers, (runs, check, units, seconds) in measured.items():
        out += figures(runs, check, units=units, seconds=seconds, workers=workers, judged=workers == judged)
    return out


async def run_workers(infra: Infra, *, quick: bool, workers: int) -> tuple[dict, dict, int, float]:
    seconds = 2 if quick else 5
    warmup_s = 1 if quick else 2
    units = 150 if quick else UNITS
    servers = Servers(infra, workers)
    clock = Stopwatch()
    published_before = await end_offsets(infra.kafka.bootstrap, topics.SUBMISSIONS)
    try:
        say(f"intake: starting intake and the baseline, {workers} worker process(es) each")
        await servers.start()
        province = await prepare_province(servers, units=units)
        say(f"intake: province {PROVINCE} with {units} units and their API tokens ready in {clock.seconds:.0f}s")
        capacity = len(province.slots) * units
        offset = 0  # the next free period index: runs never repeat a unit x period

        async def level(name: str, connections: int, duration: float) -> WrkRun:
            nonlocal offset
            cpu = servers.cpu_s(name)
            sessions = (await servers.intake_db_counts())["sessions"]
            done = await wrk(servers.urls[name], province, connections=connections, seconds=duration,
                             offset=offset, name=name)  # fmt: skip
            if name == "intake":
                offset += math.ceil((done.requests + connections) / units) + 1
                if offset * units > capacity:
                    raise RuntimeError(f"out of open plan periods for new requests ({offset * units} > {capacity})")
                await drained(servers)
                done.connections_opened = (await servers.intake_db_counts())["sessions"] - sessions
            done.cpu_s = servers.cpu_s(name) - cpu
            return done

        await level("baseline", 8, warmup_s)
        warm = await level("intake", 8, warmup_s)
        runs: dict[int, tuple[WrkRun, WrkRun]] = {}
        for c in LEVELS:
            base = await level("baseline", c, seconds)
            mine = await level("intake", c, seconds)
            runs[c] = (mine, base)
            say(
                f"intake c{c} w{workers}: {mine.rps:.0f}/s p99 {mine.latency_ms['p99']:.1f} ms "
                f"(baseline {base.rps:.0f}/s "
                f"p99 {base.latency_ms['p99']:.1f} ms); CPU ms per 2xx {mine.summary()['server_cpu_ms_per_2xx']} "
                f"({base.summary()['server_cpu_ms_per_2xx']}); failures intake {mine.failures or 'none'}, "
                f"baseline {base.failures or 'none'}"
            )
        accepted = warm.ok + sum(mine.ok for mine, _ in runs.values())
        # wrk stops with up to one request per connection still in flight: intake may store those too.
        unanswered = warm.connections + sum(mine.connections for mine, _ in runs.values())
        counts = await servers.intake_db_counts()
        published_after = await end_offsets(infra.kafka.bootstrap, topics.SUBMISSIONS)
        published = sum(published_after.values()) - sum(published_before.values())
        check = {
            "accepted_2xx": accepted,
            "in_flight_at_stops_at_most": unanswered,
            "stored": counts["stored"],
            "outbox_sent": counts["sent"],
            "outbox_unsent": counts["unsent"],
            "records_on_topic": published,
        }
        say(f"intake: accepted {accepted}, stored {counts['stored']}, published {published}")
        if not counts["stored"] == counts["sent"] == published or counts["unsent"]:
            say(f"intake: NOT every stored submission was published: {check}")
        return runs, check, units, seconds
    finally:
        await servers.close_monitor()
        servers.stop()
        await forget_records(infra.kafka.bootstrap)


async def drained(servers: Servers) -> None:
    """Until intake's outbox holds no unsent row (the relay caught up), within a bound."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while (await servers.intake_db_counts())["unsent"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"intake's outbox did not drain within {DRAIN_TIMEOUT_S}s")
        await asyncio.sleep(0.2)


async def forget_records(bootstrap: str) -> None:
    """Delete the records this suite put on baocao.submissions, so that later suites' new consumer groups
    (which start from the earliest offset) do not spend their measurement replaying them."""
    ends = await end_offsets(bootstrap, topics.SUBMISSIONS)
    upto = {TopicPartition(topics.SUBMISSIONS, p): RecordsToDelete(end) for p, end in ends.items() if end}
    if not upto:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.delete_records(upto)
    finally:
        await admin.close()


def figures(
    runs: dict[int, tuple[WrkRun, WrkRun]],
    check: dict,
    *,
    units: int,
    seconds: float,
    workers: int = 1,
    judged: bool = True,
) -> list[Figure]:
    """The figures of one worker count; issue 19's targets on them only if `judged` (the count they are judged at)."""
    suffix = f", {workers} workers" if workers > 1 else ""
    consistent = (
        check["stored"] == check["outbox_sent"] == check["records_on_topic"]
        and check["accepted_2xx"] <= check["stored"] <= check["accepted_2xx"] + check["in_flight_at_stops_at_most"]
        and check["outbox_unsent"] == 0
    )
    common = {
        "measures": "wrk, closed loop: each connection sends its next POST /v1/submissions when the last is answered",
        "requests": "a unit's first report of one period (distinct unit x period), its API token, an Idempotency-Key",
        "units": units,
        "seconds_per_level": seconds,
        "baseline": "bench/baseline_app.py: FastAPI + asyncpg pool, one INSERT of the JSON body; same uvicorn",
        "published_check": {**check, "consistent": consistent},
        "workers": workers,
        "targets_judged_here": judged,
    }
    out: list[Figure] = []
    for c, (mine, base) in runs.items():
        clean = not mine.failures
        notes = {**common, "intake": mine.summary(), "baseline_run": base.summary()}
        rps_met = p99_met = None
        if c == max(LEVELS) and judged:
            rps_met = clean and consistent and mine.rps >= TARGET_RATE_RATIO * base.rps
        if c == 8 and judged:
            p99_met = clean and consistent and mine.latency_ms["p99"] <= TARGET_P99_C8_RATIO * base.latency_ms["p99"]
        out.append(
            Figure(
                suite=SUITE,
                name=f"submissions/s at c{c} (2xx only){suffix}",
                value=round(mine.rps, 1),
                unit="req/s",
                baseline=round(base.rps, 1),
                baseline_name="FastAPI+asyncpg one INSERT",
                target=f">= {TARGET_RATE_RATIO:.0%} of baseline, no errors" if c == max(LEVELS) and judged else "",
                met=rps_met,
                notes=notes,
            )
        )
        for q in ("p50", "p95", "p99"):
            target = q == "p99" and c == 8 and judged
            out.append(
                Figure(
                    suite=SUITE,
                    name=f"latency {q} at c{c}{suffix}",
                    value=mine.latency_ms[q],
                    unit="ms",
                    baseline=base.latency_ms[q],
                    baseline_name="FastAPI+asyncpg one INSERT",
                    target=f"<= {TARGET_P99_C8_RATIO:g}x baseline, no errors" if target else "",
                    met=p99_met if target else None,
                    higher_is_better=False,
                    notes={
                        "connections": c,
                        "workers": workers,
                        "intake_failures": mine.failures,
                        "baseline_failures": base.failures,
                    },
                )
            )
        if c == max(LEVELS) and mine.ok and base.ok:
            cpu, base_cpu = 1000 * mine.cpu_s / mine.ok, 1000 * base.cpu_s / base.ok
            out.append(
                Figure(
                    suite=SUITE,
                    name=f"server CPU per submission at c{c}{suffix}",
                    value=round(cpu, 2),
                    unit="ms",
                    baseline=round(base_cpu, 2),
                    baseline_name="FastAPI+asyncpg one INSERT",
                    target=f"<= {TARGET_CPU_RATIO:g}x baseline" if judged else "",
                    met=(clean and consistent and cpu <= TARGET_CPU_RATIO * base_cpu) if judged else None,
                    higher_is_better=False,
                    notes={
                        "measures": "the server process's user+system CPU time over the level (intake's until its "
                        "outbox was sent) per 2xx, summed over its worker processes; at one worker its inverse "
                        "bounds the rate one core gives. Less sensitive to the other work on the machine than the "
                        "rates, though not free of it",
                        "intake_db_connections_opened": mine.connections_opened,
                        "workers": workers,
                        "targets_judged_here": judged,
                    },
                )
            )
    return out
