"""The backup drill: a month on the launcher's stack, `baocao-stack backup`, `clean`, `restore`, `up`, and every API
answer is the same, the documents' hashes too.

The stack is the launcher's own (`baocao-stack up`, supervisord, the mail sink) in a folder of the test's, its
services on a file clock (BAOCAO_CLOCK=file) that the test moves. A smaller month than tests/e2e/test_month.py,
through the public API only: Hải Dương's plan loaded as the test's own, 6 units report early (one amends), 2 late,
21 never; reminders, overdue notices and the escalation go out as the clock passes them; the period closes; the
operator approves and publishes (the signed PDF and the DOCX, mailed to every addressee).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from baocao_shared.clock import write_clock_file
from baocao_stack.backup_kafka import export_topics
from baocao_stack.kafka_jars import ensure_kafka_jars
from baocao_stack.paths import DEFAULT_HOME
from baocao_stack.ports import free_ports
from baocao_stack.settings import SERVICES, StackSettings
from baocao_testing.kit import wait_until
from baocao_testing.samples import demo_province_file
from deploy.tests.stack_cli import stack_cli

pytestmark = [pytest.mark.stack, pytest.mark.faults_long]  # 69 s idle, 7 min loaded: make faults runs it
ICT = timezone(timedelta(hours=7))
PROVINCE, PLAN, PERIOD, PASSWORD = "30", "drill", "2019-07", "baocao-demo"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


class Drill:
    def __init__(self, root: Path, libs: Path) -> None:
        self.root, self.libs, self.home, self.clock = root, libs, root / "home", root / "clock"
        kafka, controller, pg, base = free_ports(4)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BAOCAO_")},
            "BAOCAO_HOME": str(self.home),
            "BAOCAO_KAFKA_PORT": str(kafka),
            "BAOCAO_KAFKA_CONTROLLER_PORT": str(controller),
            "BAOCAO_PG_PORT": str(pg),
            "BAOCAO_PORT_BASE": str(base),
            "BAOCAO_CLOCK": "file",
            "BAOCAO_CLOCK_FILE": str(self.clock),
        }
        self.settings = StackSettings.from_env(self.env)
        self.http = {name: httpx.AsyncClient(base_url=self.settings.service_url(name), timeout=30) for name in SERVICES}

    def cli(self, *args: str) -> str:
        if args[0] == "up":  # the cached Kafka jars, as `make up` would find them after a clean
            (self.home / "kafka").mkdir(parents=True, exist_ok=True)
            if not (self.home / "kafka" / "libs").exists():
                (self.home / "kafka" / "libs").symlink_to(self.libs)
        done = stack_cli(*args, env=self.env, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"baocao-stack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done.stdout

    def at(self, instant: str) -> None:
        write_clock_file(self.clock, local(instant))

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http["intake"].post("/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, f"{username}: {answer.text}"
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    # ---------------------------------------------------------------------------------- the month

    async def month(self) -> None:
        self.at("2019-07-08T09:00")
        self.cli("up", "--no-demo")
        seeded = subprocess.run(  # noqa: ASYNC221 - the first admin, as an operator prepares a server
            [sys.executable, "-m", "intake.cli", "accounts", "seed-demo"],
            env={**self.env, **self.settings.service_env("intake")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr
        self.admin = await self.sign_in("admin")
        intake = self.http["intake"]
        loaded = await intake.put(
            f"/v1/admin/provinces/{PROVINCE}",
            content=demo_province_file(PROVINCE, PLAN).encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        assert (await intake.post("/v1/admin/demo-accounts", headers=self.admin)).status_code == 200
        self.operator = await self.sign_in(f"op-{PROVINCE}")
        units = (await intake.get("/v1/units", params={"province": PROVINCE}, headers=self.operator)).json()
        members = sorted(u["code"] for u in units if u["kind"] == "member")
        early, late = members[:6], members[6:8]
        [plan] = (await intake.get("/v1/plans", params={"province": PROVINCE}, headers=self.operator)).json()
        codes = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
        auth = {unit: await self.sign_in(f"{PROVINCE}-{unit}") for unit in early + late}
        await self.settled()  # deadlines and notify know the plan and its units before the first notice

        async def submit(unit: str, n: int) -> str:
            body = {
                "plan_id": PLAN,
                "unit": unit,
                "period": PERIOD,
                "values": {c: n * 10 + k for k, c in enumerate(codes)},
            }
            answer = await intake.post("/v1/submissions", json=body, headers=auth[unit])
            assert answer.status_code == 201, answer.text
            return answer.json()["id"]

        self.at("2019-07-08T10:00")
        first = [await submit(unit, n) for n, unit in enumerate(early, start=1)]
        amended = await intake.put(
            f"/v1/submissions/{first[0]}",
            json={"values": dict.fromkeys(codes, 7), "base_version": 1},
            headers=auth[early[0]],
        )
        assert amended.status_code == 200, amended.text
        self.at("2019-07-17T09:00")  # the reminders of the 12th, 14th and 15th, the overdue notice of the 16th
        for n, unit in enumerate(late, start=20):
            await submit(unit, n)
        self.at("2019-07-25T00:00")  # the close

        async def closed():
            compliance = await self.get("deadlines", "/v1/compliance", plan_id=PLAN, province=PROVINCE, period=PERIOD)
            return compliance.get("closed_at") and compliance

        found = await wait_until(closed, timeout=120, interval=0.5, what="the period to close")
        assert (found["summary"]["on_time"], found["summary"]["late"], found["summary"]["missing"]) == (6, 2, 21)
        await self.settled()
        for step, instant in (("approve", "2019-07-28T09:00"), ("publish", "2019-07-28T10:00")):
            self.at(instant)
            answer = await self.http["consolidation"].post(
                f"/v1/reports/{PROVINCE}/{PERIOD}/{step}", params={"plan_id": PLAN}, headers=self.operator
            )
            assert answer.status_code == 200, answer.text
        await self.settled()

    # ----------------------------------------------------------------------------------- answers

    async def get(self, service: str, path: str, **params) -> dict | list:
        answer = await self.http[service].get(path, params=params, headers=self.operator)
        assert answer.status_code == 200, f"{service} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json()

    async def settled(self) -> None:
        """Every outbox sent, every consumer at the end of its topics, no mail pending, twice in a row."""
        seen: list = []

        async def quiet():
            pipelines = [await self.get_admin(name, "/v1/ops/pipeline") for name in SERVICES]
            deliveries = await self.get("notify", "/v1/deliveries", province=PROVINCE)
            idle = all(p["outbox"]["unsent"] == 0 and all(g["lag"] == 0 for g in p["consumers"]) for p in pipelines)
            idle = idle and all(d["status"] != "pending" for d in deliveries)
            seen.append(deliveries if idle else None)
            return idle and len(seen) > 1 and seen[-2] == deliveries

        await wait_until(quiet, timeout=120, interval=1, what="every service to be idle")

    async def get_admin(self, service: str, path: str) -> dict:
        answer = await self.http[service].get(path, headers=self.admin)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def answers(self) -> dict:
        """What the API says about the month, and the published documents' hashes."""
        where = {"province": PROVINCE, "period": PERIOD}
        found = {
            "compliance": await self.get("deadlines", "/v1/compliance", plan_id=PLAN, **where),
            "report": await self.get("consolidation", f"/v1/reports/{PROVINCE}/{PERIOD}", plan_id=PLAN),
            "deliveries": await self.get("notify", "/v1/deliveries", province=PROVINCE),
            "inbox": await self.get("notify", "/v1/inbox"),
            "submissions": await self.get("intake", "/v1/submissions", plan_id=PLAN, **where),
        }
        for kind in ("pdf", "docx"):
            document = await self.http["consolidation"].get(
                f"/v1/reports/{PROVINCE}/{PERIOD}.{kind}", params={"plan_id": PLAN}, headers=self.operator
            )
            assert document.status_code == 200, document.text
            sha256 = hashlib.sha256(document.content).hexdigest()
            found[kind] = {"sha256": sha256, "known": await self.get("consolidation", f"/v1/documents/{sha256}")}
        return found

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()


@pytest.fixture
def kafka_libs() -> Path:
    """The Kafka jars cached where `make up` keeps them."""
    return ensure_kafka_jars(Path(os.environ.get("BAOCAO_HOME") or DEFAULT_HOME).resolve())


def records_in(folder: Path, manifest: dict) -> dict[str, list[dict]]:
    """Every record of every topic-partition of an export, without its offset (which a restore renumbers)."""
    found = {}
    for topic in manifest["topics"]:
        for part in topic["partitions"]:
            lines = (folder / part["file"]).read_text().splitlines()
            found[f"{topic['name']}-{part['partition']}"] = [{**json.loads(line), "offset": None} for line in lines]
    return found


async def records_on(bootstrap: str, folder: Path) -> dict[str, list[dict]]:
    topics, _ = await export_topics(bootstrap, folder, lambda line: None)
    return records_in(folder, {"topics": [asdict(topic) for topic in topics]})


@pytest.mark.timeout(600)  # three starts of the stack, and its four services twice more, on two busy cores
async def test_a_month_backed_up_and_restored_into_a_clean_stack_answers_the_same(own_tmp, kafka_libs):
    drill = Drill(own_tmp, kafka_libs)
    try:
        await drill.month()
        before = await drill.answers()
        assert before["report"]["status"] == "published" and len(before["submissions"]) == 8
        assert len(before["deliveries"]) > 29 and before["pdf"]["known"]["signed_by"]

        backed_up = drill.cli("backup", str(own_tmp / "backup"))
        assert "stopping intake, deadlines, consolidation, notify" in backed_up
        manifest = json.loads((own_tmp / "backup" / "manifest.json").read_text())
        assert {db["name"] for db in manifest["databases"]} == set(SERVICES)
        groups = {g["group"] for g in manifest["groups"]}
        assert groups and all(g["offsets"] for g in manifest["groups"])
        assert await drill.answers() == before  # started again as they were
        records = records_in(own_tmp / "backup", manifest)
        assert sum(map(len, records.values())) > 100

        # A damaged backup is refused before anything is written.
        drill.cli("clean")
        drill.cli("up", "--services", "none", "--no-demo")
        dump = own_tmp / "backup" / "postgres" / "notify.dump"
        intact = dump.read_bytes()
        dump.write_bytes(intact[:-1] + bytes([intact[-1] ^ 1]))
        refused = stack_cli("restore", str(own_tmp / "backup"), env=drill.env)
        assert refused.returncode == 1 and "postgres/notify.dump: sha256 differs" in refused.stdout
        dump.write_bytes(intact)

        restored = drill.cli("restore", str(own_tmp / "backup"))
        assert "every sha256 matches the manifest" in restored
        said = [
            line for line in (backed_up + restored).splitlines() if line.startswith(("backed up in", "restored in"))
        ]
        print("\ndrill:", *said, sep="\n  ")  # the commands' own sizes and seconds, for docs/RELIABILITY.md
        drill.cli("up", "--no-demo")
        await drill.settled()
        assert await drill.answers() == before
        after = await records_on(drill.settings.kafka_bootstrap, own_tmp / "after")
        assert after == records  # keys, values, headers and timestamps, partition by partition, in order

        # Resumed where they stopped: every group at the end of its topics at once, and no mail sent again.
        for name in SERVICES:
            pipeline = await drill.get_admin(name, "/v1/ops/pipeline")
            assert all(g["lag"] == 0 for g in pipeline["consumers"]), pipeline
        assert not [p for p in (drill.home / "mail").rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]
    finally:
        await drill.close()
        stack_cli("down", env=drill.env, timeout=300)
