"""Synthetic provinces for scale work: N provinces x M units, on the template of a real plan file."""

from __future__ import annotations

import copy
from typing import Any

import yaml

KINDS = ("member", "district")


def synthetic_province(template: dict[str, Any], *, code: str, units: int) -> dict[str, Any]:
    """A province file like `template` (its plans' template and calendar), with `units` generated units."""
    name = f"Tỉnh Thử nghiệm {code}"
    unit_codes = [f"U{i:04d}" for i in range(1, units + 1)]
    plans = []
    for plan in template.get("plans", []):
        plan = copy.deepcopy(plan)
        plan["id"] = f"p{code}-{plan['id']}"[:64]
        plan["units"] = "all"
        plan.pop("national", None)  # in no national regime: a test or bench that rolls one up loads it and says so
        plans.append(plan)
    return {
        "province": {
            "code": code,
            "name": name,
            "timezone": template["province"].get("timezone", "Asia/Ho_Chi_Minh"),
            "issuing_body": f"BAN CHỈ ĐẠO THỬ NGHIỆM {code}",
            "place_name": name,
            "operator_contacts": [{"channel": "inbox", "address": f"op-{code}"}],
        },
        "units": [
            {
                "code": unit_code,
                "name": f"Đơn vị thử nghiệm {unit_code} ({code})",
                "kind": KINDS[i % 2],
                "contacts": [{"channel": "email", "address": f"{unit_code.lower()}@p{code}.baocao.test"}],
            }
            for i, unit_code in enumerate(unit_codes)
        ],
        "plans": plans,
    }


def synthetic_codes(count: int, taken: set[str]) -> list[str]:
    """`count` two-digit province codes not already taken."""
    free = [f"{n:02d}" for n in range(1, 100) if f"{n:02d}" not in taken]
    if count > len(free):
        raise ValueError(f"only {len(free)} two-digit province codes are free")
    return free[:count]


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
