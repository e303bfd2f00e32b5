"""The fault suite's world: the running services and their province, shared by a module's cases (conftest.py
starts it); and the handle of the 3-broker cluster that test_scaleout.py runs it on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import yaml
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError

from baocao_shared.principal import Principal
from baocao_stack.kafka import KafkaBroker
from baocao_stack.kafka_config import KafkaCluster
from baocao_testing.fixtures import KafkaHandle, PostgresHandle
from baocao_testing.kit import wait_until
from baocao_testing.processes import Services
from tests.faults.case import FaultCase
from tests.faults.scale import PROVINCE, REPO, SCALE, local, period_of


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
