"""The fault suite's own world: a Kafka broker, a PostgreSQL and the four services, started once per test module.

The broker and the server are this directory's alone (not the session's shared ones), so a case may SIGKILL,
SIGSTOP and restart them. test_scaleout.py runs a second world of its own on a 3-broker KRaft cluster
(`fault_cluster`, started with the same KafkaCluster as `make up BROKERS=3`), on the same PostgreSQL.
One synthetic province is loaded once per world; each case takes the next monthly period of its plan (the
file clock only moves forward), so cases share the processes but not their figures.

A case (see `FaultCase`): a steady submission load to intake's API runs while the fault happens; the clock
moves past the period's first reminder instant during the fault; then `reconcile()` polls, with a deadline,
until every accepted submission shows exactly once, as its latest accepted version, in consolidation's totals
and in deadlines' compliance, and every unit that never submitted has its reminder sent and in the mailbox.
Duplicate reminders and mails are counted. Figures go to artifacts/faults/<case>.json and one printed line.

BAOCAO_FAULTS_LONG=1 (make faults) runs the long version: more units, a higher rate, each fault three times, and
every case. Without it (make test) the load is short and one case of each fault class runs: a crash of one service,
the broker's, PostgreSQL's restart, duplicate and out-of-order delivery, a poison event, a rebalance, and the
3-broker cluster's scale-out smoke; the cases marked `faults_long` (another service's crash, the broker paused
past the session timeout, two relays and schedulers at once, a broker of the cluster killed) are deselected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from baocao_shared.principal import Principal
from baocao_stack.kafka import KafkaBroker
from baocao_stack.kafka_config import KafkaCluster
from baocao_stack.procs import tail
from baocao_testing.fixtures import KafkaHandle, PostgresHandle, running_postgres, stack_home
from baocao_testing.kit import FAULTS_LONG, fresh_group_prefix, wait_until
from baocao_testing.processes import Services

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "faults"
ICT = timezone(timedelta(hours=7))
LONG = FAULTS_LONG
CLUSTER_BROKERS = 3


@dataclass(frozen=True)
class Scale:
    units: int  # the province's units; the last `silent` never submit (they must get reminders)
    silent: int
    rate: float  # submissions (and amendments) per second
    rounds: int  # how many times a case applies its fault
    settle_s: float  # load before the first round
    load_bound_s: float  # how long the load may go on after the last round
    reconcile_s: float  # how long the pipeline may take to catch up after the load


SCALE = (
    Scale(units=900, silent=12, rate=15, rounds=3, settle_s=8, load_bound_s=240, reconcile_s=240)
    if LONG
    # 54 talking units and their 13 amendments at 5/s: about 13 s of load, which a fault ~3 s in lands in the middle of.
    else Scale(units=60, silent=6, rate=5, rounds=1, settle_s=2, load_bound_s=120, reconcile_s=150)
)
PROVINCE = "77"
FIRST_PERIOD = (2019, 6)
AMEND_EVERY = 4  # every 4th accepted unit amends its report once


class Retryable(Exception):
    """A transport error or a 5xx: the client sends the same request again."""


def period_of(index: int) -> str:
    year, month = FIRST_PERIOD
    month += index
    return f"{year + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}"


def local(period: str, day: int, hour: int) -> datetime:
    year, month = map(int, period.split("-"))
    return datetime(year, month, day, hour, tzinfo=ICT)


# ------------------------------------------------------------------------------------------ infrastructure


@pytest.fixture(scope="session")
def fault_postgres():
    """The fault suite's own PostgreSQL on a free loopback port (each world makes its own databases on it)."""
    with running_postgres("baocao-faults-pg-") as handle:
        yield handle


# The single-broker world serves test_faults.py and the cluster's world test_scaleout.py: module-scoped, each
# stops when its module is done instead of idling beside the other on the two cores.
@pytest.fixture(scope="module")
def fault_infra(fault_postgres, tmp_path_factory: pytest.TempPathFactory):
    """A broker and a PostgreSQL of the fault suite's own, on free loopback ports."""
    from baocao_stack.kafka import start_kafka
    from baocao_stack.kafka_admin import ensure_topics, wait_kafka_ready
    from baocao_stack.kafka_jars import ensure_kafka_jars
    from baocao_stack.ports import free_ports

    home = stack_home()
    ensure_kafka_jars(home)
    root = tmp_path_factory.mktemp("faults-infra")
    port, controller_port = free_ports(2)
    broker = start_kafka(
        home, port=port, controller_port=controller_port, data_dir=root / "kafka", log_file=root / "kafka.log"
    )
    try:
        asyncio.run(wait_kafka_ready(broker, timeout=120))
        asyncio.run(ensure_topics(broker.bootstrap, partitions=3))
        yield KafkaHandle(broker.bootstrap, broker), fault_postgres
    finally:
        broker.kill()  # its data goes with the module: no controlled shutdown of every partition to wait for


@dataclass
class ClusterHandle:
    """A KRaft cluster of the fault suite's own: `brokers[i]` runs `cluster.nodes[i]`."""

    cluster: KafkaCluster
    brokers: list[KafkaBroker]

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap

    def broker(self, node_id: int) -> KafkaBroker:
        [found] = [b for b in self.brokers if b.node_id == node_id]
        return found


@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory):
    """Three brokers on free loopback ports, configured as `make up BROKERS=3` configures them (KafkaCluster):
    one controller quorum of all three, topics replicated 3 times, min.insync.replicas=2."""
    from baocao_stack.kafka import start_cluster
    from baocao_stack.kafka_admin import ensure_topics, wait_cluster_ready
    from baocao_stack.kafka_jars import ensure_kafka_jars
    from baocao_stack.ports import free_ports

    home = stack_home()
    ensure_kafka_jars(home)
    ports = free_ports(2 * CLUSTER_BROKERS)
    cluster = KafkaCluster.on_ports(zip(ports[::2], ports[1::2], strict=True))
    brokers = start_cluster(home, cluster, root=tmp_path_factory.mktemp("faults-cluster"))
    try:
        asyncio.run(wait_cluster_ready(brokers, timeout=180))
        replicas = cluster.replication_factor
        asyncio.run(ensure_topics(cluster.bootstrap, partitions=3, replication_factor=replicas))
        yield ClusterHandle(cluster, brokers)
    finally:
        for broker in brokers:  # their data goes with the module: no controlled shutdown (11 s) to wait for
            broker.kill()


@contextlib.asynccontextmanager
async def running_world(kafka, postgres: PostgresHandle, home: Path, request: pytest.FixtureRequest):
    """The four services on `kafka` (a broker or a cluster) and `postgres`, with the synthetic province loaded."""
    services = Services(postgres=postgres, kafka=kafka, home=home)
    world = None
    try:
        prefix = await fresh_group_prefix(kafka.bootstrap, tag="f")
        stack = await services.start(at=local(period_of(0), 10, 9), consumer_group_prefix=prefix)
        world = World(services=services, stack=stack, kafka=kafka, postgres=postgres)
        await world.load_province()
        yield world
    finally:
        if world is not None:
            await world.close()
        services.stop()
        if request.session.testsfailed:
            for name in services.procs:
                print(f"----- last lines of {name}.log -----\n{tail(services.log_file(name), 30)}")


@pytest.fixture(scope="module")
async def fault_world(fault_infra, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    kafka, postgres = fault_infra
    async with running_world(kafka, postgres, tmp_path_factory.mktemp("faults-services"), request) as world:
        yield world


@pytest.fixture(scope="module")
async def cluster_world(
    fault_cluster, fault_postgres, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
):
    """The services on the 3-broker cluster, with every broker in their bootstrap list."""
    home = tmp_path_factory.mktemp("faults-cluster-services")
    async with running_world(fault_cluster, fault_postgres, home, request) as world:
        yield world


@pytest.fixture
async def fault_case(fault_world, request):
    case = await fault_world.next_case(request.node.name)
    yield case


@pytest.fixture
async def cluster_case(cluster_world, request):
    case = await cluster_world.next_case(request.node.name)
    yield case


# ------------------------------------------------------------------------------------------------ world


class World:
    """The running services, the province, and what every case shares (tokens, the clock, the period)."""

    def __init__(
        self, *, services: Services, stack, kafka: KafkaHandle | ClusterHandle, postgres: PostgresHandle
    ) -> None:
        self.services, self.stack, self.kafka, self.postgres = services, stack, kafka, postgres
        self.http = httpx.AsyncClient(timeout=30)
        self.cases = 0
        self.prefix = stack.env["intake"]["BAOCAO_CONSUMER_GROUP_PREFIX"]  # of every consumer group
        self._key = None

    async def close(self) -> None:
        await self.http.aclose()

    def token(self, role: str, province: str | None = None, unit: str | None = None) -> dict[str, str]:
        """A token signed with intake's own development key, as intake signs after a sign-in."""
        from intake.adapters.keys import DEV_KEY_NAME, SigningKey, _read_pem

        if self._key is None:
            self._key = SigningKey(_read_pem(self.services.home / "keys" / DEV_KEY_NAME))
        subject = "-".join(filter(None, ["faults", role, province, unit]))
        principal = Principal(subject=subject, role=role, province=province, unit=unit)
        token = self._key.sign(principal, now=datetime.now(UTC), ttl=timedelta(hours=6))
        return {"Authorization": f"Bearer {token}"}

    def url(self, service: str) -> str:
        return self.services.url(service)

    async def load_province(self) -> None:
        from intake.domain.synthetic import dump, synthetic_province

        template = yaml.safe_load((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
        doc = synthetic_province(template, code=PROVINCE, units=SCALE.units)
        [plan] = doc["plans"]
        plan["first_period"] = period_of(0)
        self.plan_id = plan["id"]
        self.units = [u["code"] for u in doc["units"]]
        self.mail = {u["code"]: u["contacts"][0]["address"] for u in doc["units"]}
        self.indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
        self.admin = self.token("admin")
        loaded = await self.http.put(
            f"{self.url('intake')}/v1/admin/provinces/{PROVINCE}",
            content=dump(doc).encode(),
            headers={**self.admin, "Content-Type": "application/yaml"},
        )
        assert loaded.status_code == 200, loaded.text
        self.unit_auth = {unit: self.token("reporter", PROVINCE, unit) for unit in self.units}

        seen: dict = {}

        async def every_service_knows_the_plan():
            report = await self.http.get(
                f"{self.url('consolidation')}/v1/reports/{PROVINCE}/{period_of(0)}",
                params={"plan_id": self.plan_id},
                headers=self.admin,
            )
            compliance = await self.compliance(period_of(0))
            seen.update(report=report.status_code, compliance_units=len(compliance.get("units", [])))
            return seen == {"report": 200, "compliance_units": len(self.units)}

        bound = max(240, 0.6 * SCALE.units)  # generous: the long run's 900 units took over 240 s on the busy machine
        try:
            await wait_until(every_service_knows_the_plan, timeout=bound, interval=0.5, what="the province everywhere")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen {seen}") from None
        await self.caught_up("notify")  # it knows every unit's contacts before the first reminder

    async def caught_up(self, service: str, timeout: float = 120) -> None:
        async def no_lag():
            answer = await self.http.get(f"{self.url(service)}/v1/ops/pipeline", headers=self.admin)
            groups = answer.json()["consumers"] if answer.status_code == 200 else []
            return groups and all(g["lag"] == 0 for g in groups)

        await wait_until(no_lag, timeout=timeout, interval=0.5, what=f"{service} to read its topics to the end")

    async def holders(self, group: str, topic: str) -> tuple[str, list[list[int]]]:
        """The state of consumer group `<prefix><group>` and, for each member, the partitions of `topic` it
        holds, as the broker's group coordinator describes them (("unreachable", []) when it does not answer)."""
        state, members = await self.members(group)
        return state, sorted(member.get(topic, []) for member in members)

    async def members(self, group: str) -> tuple[str, list[dict[str, list[int]]]]:
        """The state of consumer group `<prefix><group>` and each member's partitions, by topic."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka.bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            [response] = await admin.describe_consumer_groups([f"{self.prefix}{group}"])
        except (KafkaError, OSError, TimeoutError):
            return "unreachable", []
        finally:
            await admin.close()
        [described] = response.to_object()["groups"]
        members = []
        for member in described["members"]:
            raw = member["member_assignment"]
            assignment = ConsumerProtocolMemberAssignment.decode(raw).assignment if raw else []
            members.append({name: sorted(partitions) for name, partitions in assignment})
        return described["state"], members

    async def compliance(self, period: str) -> dict:
        try:
            answer = await self.http.get(
                f"{self.url('deadlines')}/v1/compliance",
                params={"province": PROVINCE, "period": period, "plan_id": self.plan_id},
                headers=self.admin,
            )
        except httpx.TransportError:
            return {}
        return answer.json() if answer.status_code == 200 else {}

    async def next_case(self, name: str) -> FaultCase:
        period = period_of(self.cases)
        self.cases += 1
        self.stack.set_clock(local(period, 10, 9))
        return FaultCase(self, name, period)


# ------------------------------------------------------------------------------------------------- case


@dataclass
class Accepted:
    submission: str
    version: int
    values: dict[str, int]


@dataclass
class FaultCase:
    world: World
    name: str
    period: str
    accepted: dict[str, Accepted] = field(default_factory=dict)  # unit -> its latest accepted version
    attempted: int = 0
    answered_201: int = 0
    replayed: int = 0
    amended: int = 0
    retries: int = 0
    unanswered: list[str] = field(default_factory=list)
    intakes: list[str] = field(default_factory=list)  # the intake URLs the load spreads over
    notes: dict[str, object] = field(default_factory=dict)
    pace: float = 1.0  # the share of SCALE.rate the load sends at; a case lowers it to keep the load going longer
    # The reminder instant once deadlines shows every accepted submission, not during the fault: exactly the
    # silent units are reminded, so two runs of one script remind the same units (the scale-out comparison).
    remind_when_settled: bool = False
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.talking = self.world.units[: -SCALE.silent]
        self.silent = self.world.units[-SCALE.silent :]
        self.started = time.monotonic()

    def accepted_so_far(self) -> int:
        return self.answered_201 + self.amended

    def elapsed(self) -> float:
        """Seconds since the case began (a figure, the same clock as `load_s` and `reminder_at`)."""
        return round(time.monotonic() - self.started, 1)

    def values(self, unit: str, version: int) -> dict[str, int]:
        """Distinct per unit and version: a unit counted twice, or an old version, changes the totals."""
        n = self.world.units.index(unit) + 1
        return {code: n * 10 + k + 7 * (version - 1) for k, code in enumerate(self.world.indicators)}

    # ------------------------------------------------------------------------------------------- the load

    async def run(self, fault: Callable[[], Awaitable[None]]) -> None:
        """The load from start to end, with `fault` applied SCALE.rounds times in the middle of it."""
        load = asyncio.create_task(self._load())
        try:
            await self._progress(SCALE.settle_s)
            for round_ in range(SCALE.rounds):
                await fault()
                if round_ == 0 and not self.remind_when_settled:
                    self.reminder_instant()  # after the first round's fault, if the fault did not move it
            # Every unit that talks submits before the reconciliation: units left silent by a short load
            # would only add overdue notices to the next case's mail queue.
            await asyncio.wait({load}, timeout=SCALE.load_bound_s)
        finally:
            self._stop.set()
            await load
        if self.remind_when_settled:
            await self._deadlines_knows_every_submission()
        self.reminder_instant()

    async def _deadlines_knows_every_submission(self) -> None:
        async def all_on_time():
            found = await self.world.compliance(self.period)
            return set(self.accepted) <= {u["unit"] for u in found.get("units", []) if u["status"] == "on_time"}

        await wait_until(all_on_time, timeout=SCALE.reconcile_s, interval=0.5, what="deadlines to know them all")

    async def _progress(self, seconds: float) -> None:
        """Let the load run on for `seconds` (the load's length, not a synchronisation)."""
        await asyncio.sleep(seconds)

    def reminder_instant(self) -> None:
        """The clock at 08:00 on the 12th: the period's first reminder round is due."""
        if "reminder_at" not in self.notes:
            self.notes["reminder_at"] = round(time.monotonic() - self.started, 1)
            self.world.stack.set_clock(local(self.period, 12, 8))

    async def _load(self) -> None:
        in_flight: set[asyncio.Task] = set()
        limit = asyncio.Semaphore(60)
        queue = list(self.talking)
        amend_after: list[tuple[float, str]] = []
        next_at = time.monotonic()
        count = 0
        async with httpx.AsyncClient(timeout=15) as client:
            while not self._stop.is_set() and (queue or amend_after):
                now = time.monotonic()
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                next_at += 1 / (SCALE.rate * self.pace)
                if amend_after and (amend_after[0][0] <= time.monotonic() or not queue):
                    _, unit = amend_after.pop(0)
                    if unit not in self.accepted:  # its submission is still being retried: amend later
                        amend_after.append((time.monotonic() + 1.0, unit))
                        continue
                    job = self._amend(client, unit)
                elif queue:
                    unit = queue.pop(0)
                    count += 1
                    if count % AMEND_EVERY == 0:
                        amend_after.append((time.monotonic() + 2.0, unit))
                    job = self._submit(client, unit)
                else:
                    continue

                async def bounded(job=job):
                    async with limit:
                        await job

                task = asyncio.create_task(bounded())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.gather(*in_flight)
        self.notes["load_s"] = round(time.monotonic() - self.started, 1)

    def _intake(self, unit: str) -> str:
        urls = self.intakes or [self.world.url("intake")]
        return urls[self.world.units.index(unit) % len(urls)]

    async def _send(self, client: httpx.AsyncClient, method: str, unit: str, path: str, **kwargs) -> httpx.Response:
        """One request, sent again on a transport error or a 5xx (bounded in time)."""
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(120),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.retries += 1
                try:
                    answer = await client.request(method, f"{self._intake(unit)}{path}", **kwargs)
                except httpx.TransportError as exc:
                    raise Retryable(repr(exc)) from exc
                if answer.status_code >= 500:
                    raise Retryable(f"{answer.status_code} {answer.text[:200]}")
                return answer
        raise AssertionError("unreachable")

    async def _submit(self, client: httpx.AsyncClient, unit: str) -> None:
        self.attempted += 1
        values = self.values(unit, 1)
        body = {"plan_id": self.world.plan_id, "unit": unit, "period": self.period, "values": values}
        headers = {**self.world.unit_auth[unit], "Idempotency-Key": f"{unit}-{self.period}-{self.tag}"}
        try:
            answer = await self._send(client, "POST", unit, "/v1/submissions", json=body, headers=headers)
        except Retryable as exc:
            self.unanswered.append(f"submit {unit}: {exc}")
            return
        assert answer.status_code == 201, f"{unit}: {answer.status_code} {answer.text}"
        if answer.headers.get("Idempotent-Replayed") == "true":
            self.replayed += 1
        self.answered_201 += 1
        receipt = answer.json()
        self.accepted[unit] = Accepted(receipt["id"], receipt["version"], values)

    async def _amend(self, client: httpx.AsyncClient, unit: str) -> None:
        """PUT has no Idempotency-Key: after a lost answer, a 409 on the retry is checked against intake's copy."""
        self.attempted += 1
        before = self.accepted[unit]
        values = self.values(unit, before.version + 1)
        body = {"values": values, "base_version": before.version}
        path = f"/v1/submissions/{before.submission}"
        auth = self.world.unit_auth[unit]
        try:
            answer = await self._send(client, "PUT", unit, path, json=body, headers=auth)
            if answer.status_code == 409:
                held = (await self._send(client, "GET", unit, path, headers=auth)).json()
                if held["version"] == before.version + 1 and held["values"] == values:
                    self.amended += 1
                    self.accepted[unit] = Accepted(before.submission, before.version + 1, values)
                    return
        except Retryable as exc:
            self.unanswered.append(f"amend {unit}: {exc}")
            return
        assert answer.status_code == 200, f"{unit}: {answer.status_code} {answer.text}"
        self.amended += 1
        self.accepted[unit] = Accepted(before.submission, answer.json()["version"], values)

    async def wait_accepted(self, more: int, timeout: float = 120) -> None:
        """Until `more` further submissions were accepted (the load made progress), within a bound."""
        target = self.answered_201 + self.amended + more

        async def progressed():
            return self.answered_201 + self.amended >= target or self._stop.is_set() or "load_s" in self.notes

        await wait_until(progressed, timeout=timeout, interval=0.1, what=f"{more} more accepted submissions")

    # ----------------------------------------------------------------------------------------- reconcile

    async def reconcile(self) -> dict:
        """Poll until the pipeline caught up or the deadline passed; record the figures; fail on a loss."""
        world, http = self.world, self.world.http
        expected = {unit: (a.version, a.values) for unit, a in self.accepted.items()}
        expected_totals = {c: sum(a.values[c] for a in self.accepted.values()) for c in world.indicators}
        seen: dict = {"report": {}, "compliance": {}, "reminders": [], "mail_ids": Counter()}

        async def report_matches():
            try:
                answer = await http.get(
                    f"{world.url('consolidation')}/v1/reports/{PROVINCE}/{self.period}",
                    params={"plan_id": world.plan_id},
                    headers=world.admin,
                )
            except httpx.TransportError:
                return False
            if answer.status_code != 200:
                return False
            seen["report"] = report = answer.json()
            units = {u["unit"]: (u["version"], u["values"]) for u in report["units"]}
            return len(report["units"]) == len(units) and units == expected and report["totals"] == expected_totals

        async def compliance_matches():
            seen["compliance"] = found = await world.compliance(self.period)
            statuses = [(u["unit"], u["status"]) for u in found.get("units", [])]
            on_time = sorted(u for u, s in statuses if s == "on_time")
            return (
                found
                and len(statuses) == len(world.units)
                and on_time == sorted(expected)
                and found["summary"]["on_time"] == len(expected)
                and found["summary"]["pending"] == len(world.units) - len(expected)
            )

        async def reminders_sent():
            try:
                answer = await http.get(
                    f"{world.url('notify')}/v1/deliveries",
                    params={"province": PROVINCE, "period": self.period, "channel": "email", "limit": 5000},
                    headers=world.admin,
                )
            except httpx.TransportError:
                return False
            if answer.status_code != 200:
                return False
            seen["reminders"] = rows = [d for d in answer.json() if d["subject"].startswith("[Nhắc hạn]")]
            seen["mail_ids"] = Counter(m["Message-ID"] for m in list(world.stack.mailbox.messages))
            mailed = seen["mail_ids"]
            sent = {r["unit"] for r in rows if r["status"] == "sent" and f"<{r['id']}@baocao.notify>" in mailed}
            return set(self.silent) <= sent

        deadline = time.monotonic() + SCALE.reconcile_s
        outcome = {}
        for what, check in (("report", report_matches), ("compliance", compliance_matches),
                            ("reminders", reminders_sent)):  # fmt: skip
            left, began = max(5.0, deadline - time.monotonic()), time.monotonic()
            try:
                await wait_until(check, timeout=left, interval=0.5, what=what)
                outcome[what] = round(time.monotonic() - began, 1)  # seconds until it matched
            except AssertionError:
                outcome[what] = False
        return self._figures(expected, expected_totals, seen, outcome)

    def _figures(self, expected: dict, expected_totals: dict, seen: dict, outcome: dict) -> dict:
        report = seen["report"]
        in_report: Counter = Counter(u["unit"] for u in report.get("units", []))
        report_units = {u["unit"]: (u["version"], u["values"]) for u in report.get("units", [])}
        compliance_units = {u["unit"]: u["status"] for u in seen["compliance"].get("units", [])}
        lost_report = sorted(u for u, v in expected.items() if report_units.get(u) != v)
        lost_compliance = sorted(u for u in expected if compliance_units.get(u) != "on_time")
        totals = report.get("totals", {})
        over = {c: totals.get(c, 0) - t for c, t in expected_totals.items() if totals.get(c, 0) != t}
        per_unit = Counter(r["unit"] for r in seen["reminders"])
        mails = seen["mail_ids"]
        reminder_ids = {f"<{r['id']}@baocao.notify>" for r in seen["reminders"]}
        delivered = {
            r["unit"] for r in seen["reminders"] if r["status"] == "sent" and f"<{r['id']}@baocao.notify>" in mails
        }
        self.observed = seen  # what the services answered last: report, compliance, reminders, mails
        figures = {
            "case": self.name,
            "long": LONG,
            "period": self.period,
            "attempted": self.attempted,
            "accepted_201": self.answered_201,
            "replayed_201": self.replayed,
            "amended_200": self.amended,
            "retried_requests": self.retries,
            "unanswered": len(self.unanswered),
            "accepted_units": len(expected),
            "lost_in_totals": len(lost_report),
            "lost_in_compliance": len(lost_compliance),
            "units_listed_twice": sum(1 for n in in_report.values() if n > 1),
            "totals_off_by": over,
            "reminders_expected": len(self.silent),
            "reminders_delivered": len(set(self.silent) & delivered),
            "reminders_lost": sorted(set(self.silent) - delivered),
            "reminder_deliveries": len(seen["reminders"]),
            "duplicate_reminder_deliveries": sum(n - 1 for n in per_unit.values() if n > 1),
            "duplicate_mails": sum(n - 1 for mid, n in mails.items() if n > 1 and mid in reminder_ids),
            "duplicate_mails_all_periods": sum(n - 1 for n in mails.values() if n > 1),
            "caught_up": outcome,
            "seconds": round(time.monotonic() - self.started, 1),
            **self.notes,
        }
        self.figures = figures
        self._write()
        print(
            f"\nFAULT {self.name}: attempted {self.attempted}, accepted {self.answered_201} (+{self.amended} amended), "
            f"retried {self.retries}, unanswered {len(self.unanswered)}, "
            f"lost {len(lost_report)}/{len(lost_compliance)} "
            f"(totals/compliance), duplicated in totals {figures['units_listed_twice']} {over or ''}, reminders "
            f"{figures['reminders_delivered']}/{len(self.silent)} delivered, duplicate reminders "
            f"{figures['duplicate_reminder_deliveries']}, duplicate mails {figures['duplicate_mails']}, "
            f"{figures['seconds']}s"
        )
        self.lost = {"totals": lost_report, "compliance": lost_compliance, "reminders": figures["reminders_lost"]}
        return figures

    def record(self, **found) -> None:
        """Figures a case finds after its reconciliation (its dead letters): into its JSON with the others."""
        self.notes.update(found)
        self.figures.update(found)
        self._write()

    def _write(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.figures, indent=2, ensure_ascii=False) + "\n"
        (ARTIFACTS / f"{self.name}.json").write_text(text)

    def assert_nothing_lost(self) -> None:
        """What a user would notice: an accepted report missing or counted twice, a reminder never sent."""
        f = self.figures
        assert not self.unanswered, f"requests never answered within their retry bound: {self.unanswered[:5]}"
        assert f["accepted_units"] > 0, "the load got nothing accepted"
        assert not self.lost["totals"], f"accepted reports missing from the totals: {self.lost['totals'][:10]} {f}"
        assert not f["totals_off_by"] and not f["units_listed_twice"], f"totals counted wrong: {f}"
        assert not self.lost["compliance"], f"accepted reports not on time in compliance: {self.lost['compliance']}"
        assert not self.lost["reminders"], f"reminders never delivered: {self.lost['reminders']} {f}"

    # -------------------------------------------------------------------------------------- fault helpers

    def shuffled(self, items: list) -> list:
        items = list(items)
        random.Random(self.tag).shuffle(items)
        return items
