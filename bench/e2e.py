"""End to end: from intake's 201 to the submission being visible in deadlines' compliance and in
consolidation's totals, at 50 and at 500 submissions per second (issue 9: p99 < 1 s at 500/s).

The load is open-loop (bench/openloop.py): first submissions of a synthetic province's units (bench/province.py)
start on a fixed schedule, each with its unit's token and an Idempotency-Key, whatever the earlier ones are doing.
The clock of a submission starts when its 201 is in the client's hands; a `Watcher` (bench/observe.py) then polls
deadlines' and consolidation's databases every 20 ms (longer when its query takes longer: it keeps to a tenth
of one backend) for the accepted ones not seen yet, by primary key, and stamps the first sighting; one never seen
within the bounds counts with the time it had waited (a lower bound). After each level the compliance and report
APIs are read once against every 201 so far: accepted units on time and listed, the totals the sum of the units.

Baseline, the floor of the same path on the same servers, same rates and duration, same observer: commit one
row in PostgreSQL (the "201"), produce the submission's bytes with the services' own producer settings (acks=all,
idempotent, linger 5 ms) to a 3-partition topic, and two consumer groups (as deadlines and consolidation) each
commit what they read in one transaction per fetched batch into a database of their own. No outbox, no relay,
no inbox, no handler: what is left is Kafka's round trip plus one commit, the least any design of this path pays.

Resident memory of the services is sampled during the 500/s level and kept for the memory suite (bench/memory.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid

import asyncpg

from baocao_shared.db import asyncpg_dsn
from bench import stack as running_stack
from bench.e2e_floor import DRAIN_S, VISIBLE_S, all_seen, cpu_seconds, floor_level
from bench.harness import Figure, Infra, percentile, say
from bench.observe import Watcher
from bench.openloop import Outcome, Pool, Run, open_loop
from bench.province import PERIOD, Province, caught_up

SUITE = "e2e"
RATES = (50, 500)
POOL_SIZE = 128  # client connections to intake at most; the rest of an open-loop burst waits (and that counts)
TARGET_P99_S = 1.0
TARGET_ACCEPTED = 0.95  # issue 19: at 500/s offered, >= 95% accepted without queueing
QUIET_S = 60  # before a level, how long the previous one's backlog may take to drain
SETTLE_S = 15  # then how long the services may take to empty their outboxes and topics before the API check


def _sizes(quick: bool) -> tuple[float, int, int]:
    """Seconds per level, and the province's units and plans: one first submission per (plan, unit)."""
    seconds = 3.0 if quick else 10.0
    needed = sum(int(rate * seconds) for rate in RATES)
    plans = 16  # a unit owes one report per plan: fewer units to load for the same number of first submissions
    return seconds, math.ceil(needed / plans), plans


def _summary(samples: list[float]) -> dict:
    return {
        "count": len(samples),
        "p50_s": round(percentile(samples, 50), 4),
        "p95_s": round(percentile(samples, 95), 4),
        "p99_s": round(percentile(samples, 99), 4),
        "max_s": round(max(samples), 4) if samples else None,
    }


# ----------------------------------------------------------------------------------------------- the services


async def services_level(
    bench: running_stack.BenchStack, province: Province, slots: list[tuple[str, str]], rate: float, seconds: float
) -> dict:
    """One level of submissions to intake; returns the figures' raw material."""
    env = bench.stack.env
    keys_sql = "unnest($1::text[], $2::text[]) AS k(plan_id, unit)"
    scope = f"t.province = '{province.code}' AND t.period = '{PERIOD}' AND t.plan_id = k.plan_id AND t.unit = k.unit"
    watchers = {
        "compliance": Watcher(
            "compliance",
            asyncpg_dsn(env["deadlines"]["BAOCAO_DATABASE_URL"]),
            f"SELECT t.plan_id, t.unit FROM {keys_sql} JOIN obligations t ON {scope} "
            "WHERE t.first_submitted_at IS NOT NULL",
        ),
        "totals": Watcher(
            "totals",
            asyncpg_dsn(env["consolidation"]["BAOCAO_DATABASE_URL"]),
            f"SELECT t.plan_id, t.unit FROM {keys_sql} JOIN unit_reports t ON {scope}",
        ),
    }
    pool = Pool(bench.urls["intake"], size=POOL_SIZE)
    tag = uuid.uuid4().hex[:8]
    intake_dsn = asyncpg_dsn(env["intake"]["BAOCAO_DATABASE_URL"])
    since = await _db_now(intake_dsn)

    async def send(i: int) -> tuple[int, bytes]:
        plan_id, unit = slots[i]
        body = {"plan_id": plan_id, "unit": unit, "period": PERIOD, "values": province.values(unit)}
        headers = {
            "Authorization": province.unit_auth[unit],
            "Content-Type": "application/json",
            "Idempotency-Key": f"{plan_id}-{unit}-{tag}",
        }
        answer = await pool.request("POST", "/v1/submissions", headers, json.dumps(body).encode())
        return answer.status, answer.body[:300]

    def on_answer(outcome: Outcome) -> None:
        if outcome.status == 201:
            province.accepted.add(slots[outcome.index])
            for watcher in watchers.values():
                watcher.expect(slots[outcome.index], outcome.answered)

    for watcher in watchers.values():
        await watcher.start()
    sampler = running_stack.PeakSampler(bench)
    try:
        async with sampler:
            cpu = cpu_seconds()
            run = await open_loop(rate, seconds, send, limit=len(slots), drain_s=DRAIN_S, on_answer=on_answer)
            caught = await all_seen(watchers, VISIBLE_S)
            cpu = cpu_seconds() - cpu
            outbox_wait = await _outbox_wait(intake_dsn, since)
            heap = await asyncio.to_thread(running_stack.kafka_heap, bench.kafka_pid)
    finally:
        for watcher in watchers.values():
            await watcher.stop()
        await pool.close()
    settled, deadline = True, time.monotonic() + SETTLE_S
    for service in ("intake", "deadlines", "consolidation"):  # what no 201 announced may still be on its way
        try:
            await caught_up(bench.http, bench.urls[service], province.admin, timeout=deadline - time.monotonic())
        except TimeoutError:
            settled = False
            break
    api = {**await api_check(bench, province), "pipeline_caught_up": settled}
    return {"run": run, "watchers": watchers, "caught_up": caught, "api": api, "peak_mb": sampler.peak, "cpu_s": cpu,
            "rss_samples": sampler.samples, "heap": heap, "connections": pool.opened,
            "outbox_wait": outbox_wait}  # fmt: skip


async def _db_now(dsn: str):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await conn.close()


async def _outbox_wait(dsn: str, since) -> dict:
    """How long intake's submission events of the level waited in its outbox: sent_at - created_at (created_at is when
    the row was written, the request's last statement before its COMMIT): the relay's part of 201 -> visible."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY w) AS p99, max(w) AS max"
            " FROM (SELECT extract(epoch FROM sent_at - created_at)::float8 AS w FROM outbox"
            "       WHERE topic = 'baocao.submissions' AND created_at >= $1 AND sent_at IS NOT NULL) AS x",
            since,
        )
    finally:
        await conn.close()
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in dict(row).items()}


async def api_check(bench: running_stack.BenchStack, province: Province) -> dict:
    """What the read APIs say after a level, against every 201 of the run so far (`province.accepted`): units
    on time in compliance and units in the report, the ones missing (lost, if the pipeline had caught up) and
    the ones without a 201 (a request
    whose answer was a 5xx or never came, though its transaction committed); the totals against the sum of the
    report's units and each accepted unit's values against what was sent."""
    found = {"accepted": len(province.accepted), "missing_compliance": 0, "missing_report": 0, "no_201_compliance": 0,
             "no_201_report": 0, "wrong_values": 0, "totals_consistent": True, "errors": []}  # fmt: skip
    for plan_id in province.plan_ids:
        mine = {u for p, u in province.accepted if p == plan_id}
        compliance = await bench.http.get(
            f"{bench.urls['deadlines']}/v1/compliance",
            params={"province": province.code, "period": PERIOD, "plan_id": plan_id},
            headers=province.admin,
        )
        report = await bench.http.get(
            f"{bench.urls['consolidation']}/v1/reports/{province.code}/{PERIOD}",
            params={"plan_id": plan_id},
            headers=province.admin,
        )
        if compliance.status_code != 200 or report.status_code != 200:
            found["errors"].append(f"{plan_id}: {compliance.status_code}/{report.status_code}")
            continue
        on_time = {u["unit"] for u in compliance.json()["units"] if u["status"] == "on_time"}
        body = report.json()
        listed = {u["unit"]: u["values"] for u in body["units"]}
        found["missing_compliance"] += len(mine - on_time)
        found["no_201_compliance"] += len(on_time - mine)
        found["missing_report"] += len(mine - set(listed))
        found["no_201_report"] += len(set(listed) - mine)
        found["wrong_values"] += sum(1 for u in mine & set(listed) if listed[u] != province.values(u))
        summed = {c: sum(v.get(c, 0) for v in listed.values()) for c in province.indicators}
        found["totals_consistent"] &= body["totals"] == summed
    wrong = ("errors", "missing_compliance", "missing_report", "wrong_values")
    found["match"] = found["totals_consistent"] and not any(found[k] for k in wrong)
    return found


# ------------------------------------------------------------------------------------------------------ figures


def _accept_latencies(run: Run) -> list[float]:
    return [o.answered - o.due for o in run.outcomes if o.status == 201 and o.answered is not None]


def level_figures(rate: float, svc: dict, floor: dict) -> list[Figure]:
    run, frun = svc["run"], floor["run"]
    common = {
        "offered": run.offered,
        "answers": run.by_status(),
        "sent_rate_per_s": round(run.sent_rate(), 1),
        "accepted_rate_per_s": round(run.answered_rate(), 1),
        "client_connections": svc["connections"],
        "generator_and_watchers_cpu_s": round(svc["cpu_s"], 2),
        "floor_process_cpu_s": round(floor["cpu_s"], 2),
        "api_check": svc["api"],
        "intake_outbox_wait_s": svc["outbox_wait"],
        "floor_offered": frun.offered,
        "floor_committed_rate_per_s": round(frun.answered_rate(), 1),
    }
    errors = [o.error or o.body.decode("utf-8", "replace")[:200] for o in run.outcomes if o.status != 201]
    if errors:
        common["first_errors"] = errors[:3]
    figures = []
    for view in ("compliance", "totals"):
        watcher, fwatcher = svc["watchers"][view], floor["watchers"][view]
        samples, fsamples = watcher.latencies(), fwatcher.latencies()
        notes = {
            **common,
            "measures": f"seconds from a 201 in the client's hands to the submission visible in {view}"
            f" ({'deadlines obligations.first_submitted_at' if view == 'compliance' else 'consolidation unit_reports'},"
            " what the API reads), polled every 20 ms by primary key",
            "visible": _summary(samples),
            "never_visible": len(watcher.waiting),  # within the bound; counted at their wait (lower bounds)
            "observer_polls": watcher.polls,
            "observer_busy_s": round(watcher.poll_seconds, 2),
            "observer_mean_interval_s": round(watcher.mean_interval_s, 4),
            "floor": _summary(fsamples),
            "floor_never_visible": len(fwatcher.waiting),
            "baseline_measures": "commit a row, produce it (acks=all, idempotent), a consumer group commits each"
            " fetched batch in its own database; same rate, same observer",
        }
        for q in (50, 99):
            value, base = percentile(samples, q), percentile(fsamples, q)
            target, met = "", None
            if q == 99 and rate == 500:
                target = f"p99 < {TARGET_P99_S:g} s at 500/s"
                met = bool(value < TARGET_P99_S) and not watcher.waiting and svc["api"]["match"]
            figures.append(
                Figure(
                    suite=SUITE,
                    name=f"201 -> visible in {view}, p{q} at {rate}/s",
                    value=value,
                    unit="s",
                    baseline=base,
                    baseline_name="Kafka round trip + 1 commit",
                    target=target,
                    met=met,
                    higher_is_better=False,
                    notes=notes if q == 99 else {"visible": notes["visible"], "floor": notes["floor"]},
                )
            )
    accept, faccept = _accept_latencies(run), _accept_latencies(frun)
    share = accepted_share(run, rate)
    target, met = "", None
    if rate == max(RATES):
        target = f">= {TARGET_ACCEPTED:.0%} accepted without queueing at {rate}/s"
        met = share >= TARGET_ACCEPTED
    figures.append(
        Figure(
            suite=SUITE,
            name=f"submissions accepted per second at {rate}/s offered",
            value=run.answered_rate(),
            unit="/s",
            baseline=frun.answered_rate(),
            baseline_name="bare INSERT commits",
            target=target,
            met=met,
            notes={
                "accepted_share_without_queueing": round(share, 3),
                **common,
                "intake_201_latency": _summary(accept),
                "floor_commit_latency": _summary(faccept),
                "measures": "201 answers per second from the first scheduled start to the last 201",
            },
        )
    )
    figures.append(
        Figure(
            suite=SUITE,
            name=f"scheduled start -> 201, p99 at {rate}/s",
            value=percentile(accept, 99),
            unit="s",
            baseline=percentile(faccept, 99),
            baseline_name="bare INSERT commit",
            higher_is_better=False,
            notes={
                "intake": _summary(accept),
                "floor": _summary(faccept),
                "measures": "from the request's scheduled start (waiting for a client connection included)",
            },
        )
    )
    return figures


def accepted_share(run: Run, rate: float) -> float:
    """How much of the offered load was accepted without queueing: the 201s over the requests offered, and their
    rate (from the first scheduled start to the last 201, so queued requests lower it) over the offered rate;
    the lesser of the two."""
    if not run.offered:
        return 0.0
    answered = sum(1 for o in run.outcomes if o.status == 201)
    return min(answered / run.offered, run.answered_rate() / rate)


def submission_event(province: Province) -> bytes:
    """The bytes of a real submission.received event of this province, for the floor to carry."""
    from datetime import UTC, datetime

    from baocao_shared.events import make_event
    from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1

    plan_id, unit = province.slots()[0]
    now = datetime.now(UTC)
    content = SubmissionV1(submission_id=uuid.uuid4(), province=province.code, unit=unit, plan_id=plan_id,
                           period=PERIOD, version=1, values=province.values(unit), narratives={}, received_at=now,
                           first_received_at=now, submitted_by=f"bench-reporter-{province.code}-{unit}")  # fmt: skip
    event, _ = make_event(SUBMISSION_RECEIVED, content, source="/baocao/intake", province=province.code, time=now)
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False).encode()


async def _quiet(bench: running_stack.BenchStack, province: Province) -> bool:
    """Until the services' outboxes and topics are empty, within QUIET_S; False when they were not."""
    deadline = time.monotonic() + QUIET_S
    try:
        for service in ("intake", "deadlines", "consolidation"):
            await caught_up(bench.http, bench.urls[service], province.admin, timeout=deadline - time.monotonic())
    except TimeoutError:
        say(f"the services still had a backlog after {QUIET_S}s; the level starts with it")
        return False
    return True


async def run(infra: Infra, *, quick: bool) -> list[Figure]:
    seconds, units, plans = _sizes(quick)
    bench = await running_stack.running(infra)
    figures: list[Figure] = []
    try:
        province = await bench.ensure_province(units=units, plans=plans)
        slots = province.slots()
        payload = submission_event(province)
        for rate in RATES:
            clean = await _quiet(bench, province)  # the previous level's backlog does not run under this one
            say(f"floor at {rate}/s for {seconds:.0f}s")
            floor = await floor_level(infra, rate, seconds, payload)
            count = int(rate * seconds)
            say(f"services at {rate}/s for {seconds:.0f}s ({count} first submissions)")
            svc = await services_level(bench, province, slots[:count], rate, seconds)
            svc["api"]["started_without_backlog"] = clean
            slots = slots[count:]
            found = level_figures(rate, svc, floor)
            for f in found:
                if f.name.startswith("201 -> visible") and "p99" in f.name:
                    say(f"{f.name}: {f.value:.3f}s (floor {f.baseline:.3f}s)")
            level = svc["run"]
            say(f"answers {level.by_status()}, accepted {level.answered_rate():.0f}/s, API check {svc['api']}")
            say(f"intake's outbox: created -> sent {svc['outbox_wait']}")
            figures += found
            if rate == max(RATES):
                bench.peak_mb, bench.peak_load = svc["peak_mb"], f"{rate}/s first submissions for {seconds:.0f}s"
                bench.heap_under_load = svc["heap"]
    finally:
        await running_stack.stop()
    return figures
