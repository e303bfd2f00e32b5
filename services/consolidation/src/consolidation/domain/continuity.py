"""The report over a reorganisation (pure; issue 17, part 2): a report of a period names the units in force
in that period, and a plan that carries on a predecessor plan (one whose `successor` names it: Hải Dương's
plan 467 ended in 2025-06, Hải Phòng's plan took its regime on from 2025-07) compares with the predecessor's
figures for the periods before it began, and says so.

Province totals compare province with province: the predecessor's totals as they were, never rebuilt from
its units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from baocao_shared.calendar import period_month, period_months
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.events.reports import ContinuityV1, CoverageV1
from baocao_shared.periods import in_plan
from baocao_shared.structure import in_force
from consolidation.domain.comparisons import PeriodFigures

PlanKey = tuple[str, str]

COMPARISON_WORDS = {"previous": "kỳ trước", "last_year": "cùng kỳ năm trước", "year_to_date": "lũy kế từ đầu năm"}
CHANGE_WORDS = {"merge": "hợp nhất", "split": "chia tách", "rename": "đổi tên", "move": "chuyển"}


def key(plan: PlanV1) -> PlanKey:
    return plan.province, plan.id


def expected_units(plan: PlanV1, units: Iterable[UnitV1], period: str) -> list[str]:
    """The plan's units that owe the period's report: those in force then (a unit the catalogue does not
    know stays: nothing says it ended)."""
    known = {u.code: u for u in units if u.province == plan.province}
    return [code for code in plan.units if code not in known or in_force(known[code], period)]


def predecessors_of(plan: PlanV1, plans: Sequence[PlanV1]) -> list[PlanV1]:
    """Every plan the regime came through before `plan`: those whose successor names it, and theirs, back."""
    found: list[PlanV1] = []
    seen = {key(plan)}
    todo = [plan]
    while todo:
        later = todo.pop(0)
        for earlier in plans:
            s = earlier.successor
            if s is not None and (s.province, s.code) == key(later) and key(earlier) not in seen:
                seen.add(key(earlier))
                found.append(earlier)
                todo.append(earlier)
    return found


def route(periods: Iterable[str], plan: PlanV1, predecessors: Sequence[PlanV1]) -> dict[str, list[PlanV1]]:
    """Which plans' figures count for each period: the plan's own, except for a period before it began
    that predecessor plans (of the same frequency) covered, whose figures are theirs (several, summed, when
    several merged into it)."""
    frequency = plan.calendar.frequency
    routed: dict[str, list[PlanV1]] = {}
    for code in dict.fromkeys(periods):
        earlier = (
            [p for p in predecessors if p.calendar.frequency == frequency and in_plan(p, code)]
            if period_month(code) < period_months(plan.first_period)[0]
            else []
        )
        routed[code] = earlier or [plan]
    return routed


def earliest_first_period(plan: PlanV1, predecessors: Sequence[PlanV1]) -> str:
    """Where the regime began: the year to date reaches back through the predecessor plans."""
    return min([plan.first_period, *(p.first_period for p in predecessors if p.calendar.frequency ==
                                     plan.calendar.frequency)])  # fmt: skip


def merge(parts: Iterable[PeriodFigures]) -> PeriodFigures:
    """One period's figures over several plans: totals and counts of reports summed."""
    totals: dict[str, int] = {}
    units = 0
    for part in parts:
        units += part.units
        for code, value in part.totals.items():
            totals[code] = totals.get(code, 0) + int(value)
    return PeriodFigures(totals, units)


def gather(
    routed: Mapping[str, Sequence[PlanV1]], figures: Mapping[PlanKey, Mapping[str, PeriodFigures]]
) -> dict[str, PeriodFigures]:
    """Per period, the figures of the plans it is routed to (a period nobody reported stays absent)."""
    out: dict[str, PeriodFigures] = {}
    for code, plans in routed.items():
        parts = [figures.get(key(p), {}).get(code) for p in plans]
        present = [p for p in parts if p is not None]
        if present:
            out[code] = merge(present)
    return out


def place_words(province: ProvinceV1 | None, code: str) -> str:
    """'tỉnh Hải Dương' (a name given bare), 'thành phố Hải Phòng' (a name given with its kind)."""
    name = province.name if province is not None else code
    for kind in ("Tỉnh ", "Thành phố ", "tỉnh ", "thành phố "):
        if name.startswith(kind):
            return kind.lower() + name[len(kind) :]
    return f"tỉnh {name}"


def _change(predecessor: ProvinceV1 | None, into: str) -> str:
    kinds = [s.kind for s in (predecessor.successors if predecessor is not None else []) if s.province == into]
    return CHANGE_WORDS.get(kinds[0], "sắp xếp lại") if kinds else "sắp xếp lại"


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " và " + words[-1]


def notes(
    plan: PlanV1,
    coverage: CoverageV1,
    routed: Mapping[str, Sequence[PlanV1]],
    provinces: Mapping[str, ProvinceV1],
) -> list[ContinuityV1]:
    """For each predecessor plan the comparisons read, which comparisons and periods, and the document's
    sentence: 'Số liệu cùng kỳ năm trước gồm số liệu của tỉnh Hải Dương (kế hoạch 467/KH-BCĐNQ) trước khi
    hợp nhất.'"""
    read = {
        "previous": [coverage.previous_period] if coverage.previous_period else [],
        "last_year": [coverage.last_year_period] if coverage.last_year_period else [],
        "year_to_date": list(coverage.year_periods),
    }
    found: dict[PlanKey, tuple[PlanV1, list[str], list[str]]] = {}
    for comparison, codes in read.items():
        for code in codes:
            for source in routed.get(code, []):
                if key(source) == key(plan):
                    continue
                earlier, comparisons, periods = found.setdefault(key(source), (source, [], []))
                if comparison not in comparisons:
                    comparisons.append(comparison)
                if code not in periods:
                    periods.append(code)
    out = []
    for earlier, comparisons, periods in found.values():
        what = _joined([COMPARISON_WORDS[c] for c in comparisons])
        if earlier.province == plan.province:
            note = f"Số liệu {what} gồm số liệu theo kế hoạch {earlier.number} trước đó."
        else:
            before = provinces.get(earlier.province)
            note = (
                f"Số liệu {what} gồm số liệu của {place_words(before, earlier.province)} (kế hoạch "
                f"{earlier.number}) trước khi {_change(before, plan.province)}."
            )
        name = provinces[earlier.province].name if earlier.province in provinces else earlier.province
        out.append(
            ContinuityV1(
                province=earlier.province, province_name=name, plan_id=earlier.id, plan_number=earlier.number,
                comparisons=comparisons, periods=sorted(periods), note=note,
            )
        )  # fmt: skip
    return out


def in_force_provinces(provinces: Iterable[ProvinceV1], period: str) -> list[ProvinceV1]:
    """The provinces in force in the period (the national roll-up of a period follows its structure)."""
    return [p for p in provinces if in_force(p, period)]
