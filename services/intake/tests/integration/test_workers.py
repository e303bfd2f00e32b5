"""BAOCAO_WORKERS=2: intake as a real process (`python -m intake`) serving its port from two worker processes, on
the real broker and database; each worker runs its own outbox relay, and every accepted submission is published
exactly once all the same (the relays claim rows with FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from baocao_shared.events import CloudEvent
from baocao_shared.events.topics import SUBMISSIONS
from baocao_shared.principal import Principal
from baocao_stack.ports import free_port
from baocao_stack.procs import Proc
from baocao_testing.fixtures import create_database
from baocao_testing.kit import end_offsets, fresh_group_prefix, read_topic, wait_until
from baocao_testing.processes import until_ready
from intake.adapters.keys import SigningKey, _read_pem, generate_key_file
from intake.domain.catalog import parse_province_file
from intake.domain.synthetic import dump, synthetic_province

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
PROVINCE = "88"
# Hải Dương's units and plan under a code of their own, without the successors its file names.
TEMPLATE = yaml.safe_load((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PROVINCE_FILE = dump(synthetic_province(TEMPLATE, code=PROVINCE, units=30))
CATALOGUE = parse_province_file(PROVINCE_FILE)
PLAN = CATALOGUE.plans[0]
JUNE_10_2019 = datetime(2019, 6, 10, 3, tzinfo=UTC)  # period 2019-06 open, not yet due


def report(unit: str) -> dict:
    indicators = [i.code for task in PLAN.template.tasks for i in task.indicators]
    return {
        "plan_id": PLAN.id,
        "unit": unit,
        "period": "2019-06",
        "values": {code: n for n, code in enumerate(indicators, 1)},
        "narratives": {"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44.", "next_month": "Tiếp tục."},
    }


def serving_pids(proc: Proc, port: int) -> dict[int, int]:
    """pid -> how many established connections on intake's port it holds, among the processes `proc` started."""
    held: Counter[int] = Counter()
    for child in proc.descendants():
        try:
            for conn in child.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == port:
                    held[child.pid] += 1
        except psutil.NoSuchProcess:
            pass
    return dict(held)


async def every_worker_reports_both_workers_metrics(clients, published: int) -> None:
    """/metrics sums the workers (prometheus-client's multiprocess mode): whichever worker answers, the submissions
    its relay and the other's sent add up to all of them."""
    sent = 'baocao_outbox_sent_total{topic="baocao.submissions"}'
    for client in clients:  # connections held by both workers
        text = (await client.get("/metrics")).text
        values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(sent + " ")]
        assert values == [published], f"{sent} on one connection: {values}"


async def a_revoked_api_token_is_refused_by_both_workers_within_seconds(clients, bearer) -> None:
    """Whichever worker revokes a unit's API token, both refuse it from then on (issue 20: within 5 s)."""
    unit = CATALOGUE.units[0].code
    url = f"/v1/units/{PROVINCE}/{unit}/api-tokens"
    operator = bearer(Principal(f"op-{PROVINCE}", "province_operator", PROVINCE))
    created = await clients[0].post(url, json={"label": "Phần mềm quản lý văn bản"}, headers=operator)
    assert created.status_code == 201, created.text
    as_token = {"Authorization": f"Bearer {created.json()['token']}"}
    for client in clients:  # on every connection, so both workers have accepted it
        assert (await client.get("/v1/auth/me", headers=as_token)).status_code == 200
    revoked = await clients[0].delete(f"{url}/{created.json()['id']}", headers=operator)
    assert revoked.status_code == 204, revoked.text
    started = time.monotonic()

    async def refused_everywhere():
        answers = [(await client.get("/v1/auth/me", headers=as_token)).status_code for client in clients]
        return set(answers) == {401}

    await wait_until(refused_everywhere, timeout=5, interval=0.1, what="both workers to refuse the revoked token")
    assert time.monotonic() - started < 5


async def test_two_workers_serve_one_port_and_publish_each_accepted_submission_once(postgres, kafka, tmp_path):
    key_file = generate_key_file(tmp_path / "keys" / "intake.pem")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "intake.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_")},
        "BAOCAO_WORKERS": "2",
        "BAOCAO_HOME": str(tmp_path),
        "BAOCAO_JWT_PRIVATE_KEY_FILE": str(key_file),
        "BAOCAO_HTTP_PORT": str(port),
        "BAOCAO_DATABASE_URL": await create_database(postgres, "intake"),
        "BAOCAO_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "BAOCAO_CONSUMER_GROUP_PREFIX": await fresh_group_prefix(kafka.bootstrap, tag="workers"),
        "BAOCAO_OUTBOX_POLL_INTERVAL_S": "0.2",
        "BAOCAO_CLOCK": "simulated",
        "BAOCAO_CLOCK_START": JUNE_10_2019.isoformat(),
        "PYTHONUNBUFFERED": "1",
    }
    published_before = await end_offsets(kafka.bootstrap, SUBMISSIONS)
    proc = Proc.spawn([sys.executable, "-m", "intake"], log_file=log, env=env, cwd=REPO)
    clients: list[httpx.AsyncClient] = []
    try:
        await until_ready(url, proc, log, name="intake")
        key = SigningKey(_read_pem(key_file))

        def bearer(principal: Principal) -> dict[str, str]:
            token = key.sign(principal, now=datetime.now(UTC), ttl=timedelta(hours=1))  # wall-clock instants
            return {"Authorization": f"Bearer {token}"}

        async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
            loaded = await admin.put(
                f"/v1/admin/provinces/{PROVINCE}",
                content=PROVINCE_FILE.encode(),
                headers={**bearer(Principal("admin", "admin")), "Content-Type": "application/yaml"},
            )
            assert loaded.status_code == 200, loaded.text

        # One connection per unit, each kept open: which process holds a connection is which one accepted it.
        receipts = []
        for unit in CATALOGUE.units:
            client = httpx.AsyncClient(base_url=url, timeout=60)
            clients.append(client)
            answer = await client.post(
                "/v1/submissions",
                json=report(unit.code),
                headers={
                    **bearer(Principal(f"r-{unit.code}", "reporter", PROVINCE, unit.code)),
                    "Idempotency-Key": unit.code,
                },
            )
            assert answer.status_code == 201, answer.text
            receipts.append(answer.json()["id"])
        serving = serving_pids(proc, port)
        assert len(serving) == 2 and proc.pid not in serving, f"connections per serving process: {serving}"
        started = {json.loads(line)["pid"] for line in log.read_text().splitlines() if '"service.started"' in line}
        assert started == set(serving), f"workers started {started}, serving {serving}"

        async def published():
            seen = Counter()
            for record in await read_topic(kafka.bootstrap, SUBMISSIONS, since=published_before):
                submission = CloudEvent.from_bytes(record.value).data.get("submission_id")
                if submission in receipts:
                    seen[submission] += 1
            return seen if len(seen) == len(receipts) else None

        seen = await wait_until(published, timeout=60, what=f"the {len(receipts)} submissions on {SUBMISSIONS}")
        await asyncio.sleep(1)  # a second relay sending a row again would show by now
        seen = await published()
        assert set(seen) == set(receipts) and set(seen.values()) == {1}, f"records per submission: {seen}"

        await a_revoked_api_token_is_refused_by_both_workers_within_seconds(clients, bearer)
        await every_worker_reports_both_workers_metrics(clients, len(receipts))
    finally:
        for client in clients:
            await client.aclose()
        await asyncio.to_thread(proc.stop)
