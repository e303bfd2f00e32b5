"""The national roll-up, per regime: a province's counted report's totals mapped onto its plan's national regime,
summed over the provinces of that regime only. Pure: no I/O.

Each national regime (the national office's plan, `RegimeV1`) has its own template; a province's plan names its
regime and maps its indicators onto the regime's (`PlanV1.national`). Figures of different regimes are never added
together, even when two regimes name an indicator alike; a plan that names no regime is listed as unmapped and
counted in no total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baocao_shared.calendar import PeriodError, parse_period
from baocao_shared.events.catalog import NationalMappingV1, PlanV1, RegimeV1
from baocao_shared.periods import in_plan
from consolidation.domain.workflow import SENT_UP

COUNTED = SENT_UP  # statuses whose snapshot the national office counts: published, accepted


def counts(status: str) -> bool:
    """Whether a report in this status is in the national totals: published to the national office, or accepted
    by it."""
    return status in COUNTED


@dataclass(frozen=True)
class ProvincePlan:
    """One province's report of a plan for the period, as the roll-up reads it."""

    province: str
    province_name: str
    plan: PlanV1
    status: str
    published_at: datetime | None = None
    totals: Mapping[str, int] | None = None  # the published snapshot's totals, in the plan's codes


def owes(plan: PlanV1, period: str) -> bool:
    """Whether the plan has a report of `period`: a period of its own frequency (a monthly plan has no 2019-Y,
    2019-H1 nor 2019-Q2) between its first and last periods."""
    try:
        parse_period(period, plan.calendar.frequency)
    except PeriodError:
        return False
    return in_plan(plan, period)


def mapped(totals: Mapping[str, int], mapping: NationalMappingV1) -> dict[str, int]:
    """A plan's totals in its regime's codes (two of the plan's indicators mapped onto one regime indicator add)."""
    found: dict[str, int] = {}
    for code, value in totals.items():
        target = mapping.regime_code(code)
        found[target] = found.get(target, 0) + int(value)
    return found


def roll_up(regimes: Mapping[str, RegimeV1], reports: Iterable[ProvincePlan]) -> dict[str, Any]:
    """`{regimes: [{regime, number, title, totals, provinces, missing}], unmapped: [...]}`: per regime (by id), its
    provinces' reports with their totals in the regime's codes (counted ones only), the sum over the counted ones,
    and those not counted; the plans that name no regime, apart. A regime the catalogue has not sent yet is still
    a regime of its own (its number and title unknown)."""
    groups: dict[str, dict[str, Any]] = {}
    unmapped = []
    for report in reports:
        mapping = report.plan.national
        if mapping is None:
            unmapped.append({"province": report.province, "plan_id": report.plan.id, "status": report.status})
            continue
        group = groups.setdefault(mapping.regime, {"totals": {}, "provinces": [], "missing": []})
        counted = counts(report.status) and report.totals is not None
        totals = mapped(report.totals, mapping) if counted and report.totals is not None else {}
        group["provinces"].append(
            {
                "province": report.province,
                "province_name": report.province_name,
                "plan_id": report.plan.id,
                "status": report.status,
                "totals": dict(sorted(totals.items())),
                "published_at": report.published_at,
            }
        )
        if counted:
            for code, value in totals.items():
                group["totals"][code] = group["totals"].get(code, 0) + value
        else:
            group["missing"].append(
                {"province": report.province, "province_name": report.province_name, "plan_id": report.plan.id}
            )
    answer = []
    for regime_id in sorted(groups):
        regime, group = regimes.get(regime_id), groups[regime_id]
        answer.append(
            {
                "regime": regime_id,
                "number": regime.number if regime else None,
                "title": regime.title if regime else None,
                "totals": dict(sorted(group["totals"].items())),
                "provinces": group["provinces"],
                "missing": group["missing"],
            }
        )
    return {"regimes": answer, "unmapped": unmapped}
