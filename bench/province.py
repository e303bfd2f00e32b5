"""A synthetic province for the benchmarks that drive the running services (e2e, memory).

Built like the fault suite's (tests/faults/conftest.py, World.load_province), without pytest: the plan of
deploy/provinces/30-hai-duong.yaml copied `plans` times (every unit owes one report per plan and period, so
`units x plans` first submissions fit in one period), loaded through intake's admin API, then awaited until
deadlines lists every obligation of the period and consolidation answers for every plan. Tokens are signed with
intake's own development key, as intake signs them after a sign-in.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import yaml

from baocao_shared.principal import Principal
from bench.harness import REPO, say

ICT = timezone(timedelta(hours=7))
PERIOD = "2019-06"
# 09:00 on the 10th: the period 2019-06 is open for data (window 05-15 .. 06-14) and its first reminder
# (the 13th) is days away, so no notice is due while the clock stands still here.
CLOCK_AT = datetime(2019, 6, 10, 9, tzinfo=ICT)


class Signer:
    """Tokens as intake signs them after a sign-in, with the development key it made under `home`."""

    def __init__(self, home: Path) -> None:
        from intake.adapters.keys import DEV_KEY_NAME, SigningKey, _read_pem

        self._key = SigningKey(_read_pem(home / "keys" / DEV_KEY_NAME))

    def header(self, role: str, province: str | None = None, unit: str | None = None) -> dict[str, str]:
        subject = "-".join(filter(None, ["bench", role, province, unit]))
        principal = Principal(subject=subject, role=role, province=province, unit=unit)
        token = self._key.sign(principal, now=datetime.now(UTC), ttl=timedelta(hours=6))
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Province:
    code: str
    plan_ids: list[str]
    units: list[str]
    indicators: list[str]
    admin: dict[str, str]
    unit_auth: dict[str, str] = field(default_factory=dict)  # unit -> "Bearer ..."
    load_s: float = 0.0  # from the PUT to every service knowing the period's obligations
    accepted: set[tuple[str, str]] = field(default_factory=set)  # (plan, unit) that had a 201

    @property
    def capacity(self) -> int:
        """How many first submissions the period takes: one per unit and plan."""
        return len(self.units) * len(self.plan_ids)

    def slots(self) -> list[tuple[str, str]]:
        """Every (plan, unit) that may submit once, plan by plan."""
        return [(plan, unit) for plan in self.plan_ids for unit in self.units]

    def values(self, unit: str) -> dict[str, int]:
        n = int(unit[1:])
        return {code: n + k for k, code in enumerate(self.indicators)}


def province_doc(code: str, *, units: int, plans: int) -> dict:
    from intake.domain.synthetic import synthetic_province

    template = yaml.safe_load((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
    doc = synthetic_province(template, code=code, units=units)
    [plan] = doc["plans"]
    plan["first_period"] = PERIOD
    copies = []
    for n in range(plans):
        copy_ = copy.deepcopy(plan)
        copy_["id"] = f"{plan['id']}-{n}"[:64]
        copies.append(copy_)
    doc["plans"] = copies
    return doc


async def load_province(
    http: httpx.AsyncClient,
    urls: dict[str, str],
    signer: Signer,
    *,
    code: str,
    units: int,
    plans: int,
    timeout: float = 300,
) -> Province:
    """PUT the province to intake and wait until deadlines and consolidation know every obligation of PERIOD.

    In two steps: the units first, and the plans once every service has read the units, so deadlines opens
    the period once with every unit (in one step, each unit stored marks the plans changed and the next tick
    opens them again). The one-step load is how the bench found a unit left without its obligation for good
    (stored while the tick was opening; fixed in deadlines by 9b23601)."""
    from intake.domain.synthetic import dump

    doc = province_doc(code, units=units, plans=plans)
    template = doc["plans"][0]["template"]
    province = Province(
        code=code,
        plan_ids=[p["id"] for p in doc["plans"]],
        units=[u["code"] for u in doc["units"]],
        indicators=[i["code"] for task in template["tasks"] for i in task["indicators"]],
        admin=signer.header("admin"),
    )
    started = time.monotonic()
    deadline = started + timeout
    for step in ({**doc, "plans": []}, doc):
        loaded = await http.put(
            f"{urls['intake']}/v1/admin/provinces/{code}",
            content=dump(step).encode(),
            headers={**province.admin, "Content-Type": "application/yaml"},
            timeout=120,
        )
        if loaded.status_code != 200:
            raise RuntimeError(f"loading province {code}: {loaded.status_code} {loaded.text[:500]}")
        for service in ("intake", "deadlines", "consolidation", "notify"):
            await caught_up(http, urls[service], province.admin, timeout=deadline - time.monotonic())
    province.unit_auth = {u: signer.header("reporter", code, u)["Authorization"] for u in province.units}

    async def known_everywhere() -> bool:
        for plan_id in province.plan_ids:
            params = {"plan_id": plan_id}
            report = await http.get(
                f"{urls['consolidation']}/v1/reports/{code}/{PERIOD}", params=params, headers=province.admin
            )
            if report.status_code != 200:
                return False
            compliance = await http.get(
                f"{urls['deadlines']}/v1/compliance",
                params={"province": code, "period": PERIOD, **params},
                headers=province.admin,
            )
            if compliance.status_code != 200 or len(compliance.json()["units"]) != len(province.units):
                return False
        return True

    await until(known_everywhere, deadline - time.monotonic(), f"province {code}'s obligations in deadlines")
    for service in ("deadlines", "consolidation", "notify"):  # the period's opening announced and read
        await caught_up(http, urls[service], province.admin, timeout=deadline - time.monotonic())
    province.load_s = time.monotonic() - started
    return province


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str, *, interval: float = 0.5) -> None:
    """Poll `check` until it holds, within `timeout` seconds, saying every 15 s what it waits for."""
    started = time.monotonic()
    said = started
    while not await check():
        now = time.monotonic()
        if now - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        if now - said >= 15:
            say(f"still waiting for {what} ({now - started:.0f}s)")
            said = now
        await asyncio.sleep(interval)


async def caught_up(http: httpx.AsyncClient, url: str, admin: dict[str, str], *, timeout: float) -> None:
    """Until the service's consumer groups have no lag and its outbox is empty."""

    async def idle() -> bool:
        answer = await http.get(f"{url}/v1/ops/pipeline", headers=admin)
        if answer.status_code != 200:
            return False
        status = answer.json()
        groups = status.get("consumers", [])
        unsent = status["outbox"].get("unsent")
        return bool(groups) and all(g["lag"] == 0 for g in groups) and unsent == 0

    await until(idle, timeout, f"{url} to send its outbox and read its topics to the end")
