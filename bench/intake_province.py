"""The province intake's benchmark sends its load to: a synthetic province of N units on PLANS copies of plan 467's
template in force now, one API token per unit issued through intake's API, and the (plan, period) slots open for a
unit's report during the run, written where wrk's script reads them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml

from baocao_shared.principal import Principal
from bench.harness import REPO

if TYPE_CHECKING:
    from bench.intake_servers import Servers

PROVINCE = "86"  # a code no other suite loads: its records on the shared topics are told apart
PLANS = 24  # copies of the template's plan: distinct unit x plan x open period requests (see open_plans)
ISSUERS = 16  # concurrent API-token requests while preparing


@dataclass
class Province:
    slots: list[tuple[str, str]]  # (plan, period): each plan's periods open for a unit's report now
    units_file: Path
    body_file: Path
    slots_file: Path


def admin_headers(key_file: Path) -> dict[str, str]:
    """An admin's bearer token signed with intake's key, as intake signs one after an admin's sign-in."""
    from intake.adapters.keys import SigningKey, _read_pem

    key = SigningKey(_read_pem(key_file))
    token = key.sign(Principal(subject="bench-admin", role="admin"), now=datetime.now(UTC), ttl=timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


async def prepare_province(servers: Servers, *, units: int) -> Province:
    """Load a synthetic province into intake and issue one API token per unit through its API."""
    from intake.domain.synthetic import dump, synthetic_province

    template = yaml.safe_load((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
    doc = synthetic_province(template, code=PROVINCE, units=units)
    doc["plans"] = plans = open_plans(doc["plans"][0], PLANS)
    plan = plans[0]
    admin = admin_headers(servers.key_file)
    base = servers.urls["intake"]
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        loaded = await http.put(
            f"/v1/admin/provinces/{PROVINCE}",
            content=dump(doc).encode(),
            headers={**admin, "Content-Type": "application/yaml"},
        )
        if loaded.status_code != 200:
            raise RuntimeError(f"loading province {PROVINCE}: {loaded.status_code} {loaded.text[:500]}")
        limit = asyncio.Semaphore(ISSUERS)

        async def issue(unit: str) -> str:
            async with limit:
                answer = await http.post(
                    f"/v1/units/{PROVINCE}/{unit}/api-tokens", json={"label": "bench client"}, headers=admin
                )
            if answer.status_code != 201:
                raise RuntimeError(f"API token of {unit}: {answer.status_code} {answer.text[:300]}")
            return answer.json()["token"]

        codes = [u["code"] for u in doc["units"]]
        tokens = await asyncio.gather(*(issue(code) for code in codes))
    units_file = servers.home / "units.tsv"
    units_file.write_text("".join(f"{code}\t{token}\n" for code, token in zip(codes, tokens, strict=True)))
    indicators = [i["code"] for task in plan["template"]["tasks"] for i in task["indicators"]]
    body = {
        "plan_id": "{plan}",
        "unit": "{unit}",
        "period": "{period}",
        "values": {code: 3 + k for k, code in enumerate(indicators)},
        "narratives": {
            "T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44 cho cán bộ, đảng viên; 420 lượt người tham dự.",
            "difficulties": "Kinh phí cho công tác tuyên truyền còn hạn chế.",
        },
    }
    body_file = servers.home / "body.json"
    body_file.write_text(json.dumps(body, ensure_ascii=False))
    slots = accepting_slots(plans, doc["province"]["timezone"], datetime.now(UTC) + timedelta(minutes=15))
    slots_file = servers.home / "slots.tsv"
    slots_file.write_text("".join(f"{plan_id}\t{period}\n" for plan_id, period in slots))
    return Province(slots=slots, units_file=units_file, body_file=body_file, slots_file=slots_file)


def open_plans(plan: dict, count: int) -> list[dict]:
    """`count` copies of the template's plan under ids of their own, in force now (the template's ended with its
    province's merger): a unit reports once per plan and period, and a period is open for a few weeks only, so
    distinct requests come from many plans x the period open now."""
    start = datetime.now(UTC) - timedelta(days=400)
    copies = []
    for k in range(count):
        copy = {key: value for key, value in plan.items() if key not in ("last_period", "successor")}
        copy["id"] = f"{plan['id'][:56]}-{k:02d}"
        copy["first_period"] = f"{start.year:04d}-{start.month:02d}"
        copies.append(copy)
    return copies


def accepting_slots(plans: list[dict], timezone: str, until: datetime) -> list[tuple[str, str]]:
    """Each (plan, period) a unit's report is accepted for from now until `until` (open or overdue, not closed)."""
    from baocao_shared import periods
    from baocao_shared.events.catalog import PlanV1

    now = datetime.now(UTC)
    slots = []
    for doc in plans:
        plan = PlanV1.model_validate({**doc, "province": PROVINCE, "units": []})
        for period in periods.periods_between(plan, plan.first_period, f"{now.year + 1:04d}-12"):
            first, last = (periods.standing(plan, period.code, timezone, at) for at in (now, until))
            if first.accepting and last.accepting:
                slots.append((plan.id, period.code))
    return slots
