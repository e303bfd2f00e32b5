"""The calendar suite's country: 63 provinces of synthetic units (a copy of plan 467 each), built in memory and
loaded into deadlines' replica tables with COPY."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from baocao_shared.calendar import local_date, period_containing
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from bench.harness import REPO
from intake.domain.catalog import parse_province_file

SEED = REPO / "deploy" / "provinces" / "30-hai-duong.yaml"
PROVINCES = 63
# The bench's clock: the scheduler opens the period on 1 June (it runs 15 May .. 14 June, due 16 June).
OPEN_AT = datetime.fromisoformat("2025-06-01T09:00:00+07:00")


@dataclass
class Catalogue:
    provinces: list[ProvinceV1]
    units: list[dict]  # UnitV1 documents as the replica stores them (model_dump(mode="json"))
    plans: list[PlanV1]


def unit_doc(template: dict, province: str, n: int) -> dict:
    return {
        **template,
        "province": province,
        "code": f"DV-{n:04d}",
        "name": f"Đơn vị {n:04d} tỉnh {province}",
        "kind": "member" if n < 20 else "district",
        "contacts": [{**template["contacts"][0], "address": f"dv{n:04d}@t{province}.baocao.test"}],
    }


def build_catalogue(units_each: int) -> Catalogue:
    """63 copies of the demo province, each with `units_each` units and its plan covering all of them.
    The plan's first period is the one containing `OPEN_AT`, so opening opens exactly one period a plan.
    Unit documents are made from one UnitV1's dump (126,000 models would take seconds); a sample of
    them is checked to round-trip through UnitV1 unchanged."""
    seed = parse_province_file(SEED.read_text(encoding="utf-8"))
    template = seed.plans[0]
    unit_template = UnitV1(
        province="01", code="DV-0000", name="-", kind="member", contacts=[{"channel": "email", "address": "-"}]
    ).model_dump(mode="json")
    provinces, units, plans = [], [], []
    first = period_containing(local_date(OPEN_AT, seed.province.timezone), template.calendar).code
    for p in range(1, PROVINCES + 1):
        code = f"{p:02d}"
        provinces.append(seed.province.model_copy(update={"code": code, "name": f"Tỉnh {code}"}))
        mine = [unit_doc(unit_template, code, n) for n in range(units_each)]
        units += mine
        plans.append(
            template.model_copy(
                update={
                    "province": code,
                    "id": f"kh-{code}-467",
                    "first_period": first,
                    "units": [u["code"] for u in mine],
                }
            )
        )
    for doc in units[:: max(1, len(units) // 50)]:
        assert UnitV1.model_validate(doc).model_dump(mode="json") == doc, doc
    return Catalogue(provinces, units, plans)


async def load_catalogue(dsn: str, catalogue: Catalogue) -> None:
    """What deadlines' catalogue handlers store (baocao_shared.catalog_replica), by COPY."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "provinces",
            records=[(p.code, json.dumps(p.model_dump(mode="json"))) for p in catalogue.provinces],
            columns=["code", "doc"],
        )
        await conn.copy_records_to_table(
            "units",
            records=[(u["province"], u["code"], u["active"], json.dumps(u)) for u in catalogue.units],
            columns=["province", "code", "active", "doc"],
        )
        await conn.copy_records_to_table(
            "plans",
            records=[
                (p.province, p.id, p.active, json.dumps(p.model_dump(mode="json")), True) for p in catalogue.plans
            ],
            columns=["province", "id", "active", "doc", "changed"],
        )
        await conn.execute("ANALYZE provinces; ANALYZE units; ANALYZE plans")
    finally:
        await conn.close()
