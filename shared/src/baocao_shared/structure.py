"""The country's structure over time: which provinces and units are in force in a period, where each one's
reporting went when a reorganisation ended it, and the checks a reorganisation must pass (issue 17, part 2).

Reorganisations are data: a province or unit carries `valid_from` / `valid_to` (months, both inclusive) and,
when it ends, `successors` (merge: many into one; split: one into many; rename; move to another province).
Nothing is deleted or rewritten: a report of 2019 stays Hải Dương's, with its districts, while 2026 belongs to
Hải Phòng, with its communes; comparisons follow the change through the plans' `successor` links.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from baocao_shared.calendar import period_month
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a reorganisation: where (entity and field), what, and a stable code."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


def next_month(code: str) -> str:
    year, month = int(code[:4]), int(code[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def in_force(entity: ProvinceV1 | UnitV1, period: str) -> bool:
    """In force in `period`: in its last month (period_month), within valid_from .. valid_to. A period belongs to
    the structure in force in its last month: a unit that ended with June does not owe the third quarter; its
    successor does."""
    month = period_month(period)
    return (entity.valid_from is None or entity.valid_from <= month) and (
        entity.valid_to is None or month <= entity.valid_to
    )


def units_in_force(units: Iterable[UnitV1], province: str, period: str) -> list[UnitV1]:
    """The province's units in force in the period (the structure that owes its reports)."""
    return [u for u in units if u.province == province and in_force(u, period)]


def _unit_key(unit: UnitV1) -> tuple[str, str]:
    return unit.province, unit.code


def check_reorganisation(
    provinces: Sequence[ProvinceV1], units: Sequence[UnitV1], plans: Sequence[PlanV1]
) -> list[Problem]:
    """Every problem of the catalogue's structure over time; none means it may be applied.

    - validity: valid_from not after valid_to; successors only on an entity that ends;
    - every successor exists and is in force from the month after its predecessor's last one (no gap);
    - a rename or a move starts exactly then (the same body cannot be in force twice: no overlap);
    - successor links have no cycle;
    - no plan's obligation is left without a unit: a unit a plan names that ends while the plan goes on has
      a successor in force, named by that plan or by its successor plan.
    """
    problems: list[Problem] = []
    by_code = {p.code: p for p in provinces}
    by_unit = {_unit_key(u): u for u in units}
    plans_by_id = {(p.province, p.id): p for p in plans}

    def check_entity(loc: tuple, entity: ProvinceV1 | UnitV1) -> None:
        if entity.valid_from and entity.valid_to and entity.valid_from > entity.valid_to:
            problems.append(
                Problem((*loc, "valid_to"), f"Hiệu lực đến {entity.valid_to} trước khi bắt đầu {entity.valid_from}.",
                        "validity_inverted")
            )  # fmt: skip
        if entity.successors and entity.valid_to is None:
            problems.append(
                Problem((*loc, "successors"), "Chỉ đơn vị đã chấm dứt (có valid_to) mới có đơn vị kế thừa.",
                        "successor_without_end")
            )  # fmt: skip

    for province in provinces:
        loc = ("provinces", province.code)
        check_entity(loc, province)
        for i, successor in enumerate(province.successors):
            target = by_code.get(successor.province)
            if target is None:
                problems.append(
                    Problem(
                        (*loc, "successors", i), f"Không có tỉnh kế thừa {successor.province}.", "successor_unknown"
                    )
                )
            elif province.valid_to and not in_force(target, next_month(province.valid_to)):
                problems.append(
                    Problem((*loc, "successors", i),
                            f"Tỉnh {target.code} chưa có hiệu lực vào kỳ {next_month(province.valid_to)}.",
                            "successor_not_in_force")
                )  # fmt: skip

    for unit in units:
        loc = ("units", f"{unit.province}.{unit.code}")
        check_entity(loc, unit)
        if unit.valid_to is None:
            continue
        effective = next_month(unit.valid_to)
        for i, successor in enumerate(unit.successors):
            target = by_unit.get((successor.province, successor.code or ""))
            where = (*loc, "successors", i)
            if target is None:
                problems.append(
                    Problem(where, f"Không có đơn vị kế thừa {successor.province}.{successor.code}.",
                            "successor_unknown")
                )  # fmt: skip
                continue
            if not in_force(target, effective):
                problems.append(
                    Problem(where, f"Đơn vị kế thừa {target.code} chưa có hiệu lực vào kỳ {effective} (khoảng trống).",
                            "successor_gap")
                )  # fmt: skip
            elif successor.kind in ("rename", "move") and target.valid_from != effective:
                problems.append(
                    Problem(where, f"Đổi tên / chuyển tỉnh: {target.code} phải có hiệu lực từ đúng kỳ {effective} "
                            f"(đang từ {target.valid_from or 'trước đó'}: trùng hiệu lực).", "validity_overlap")
                )  # fmt: skip

    problems += _cycles(units)

    for plan in plans:
        for code in plan.units:
            unit = by_unit.get((plan.province, code))
            if unit is None or unit.valid_to is None:
                continue
            if plan.last_period and plan.last_period <= unit.valid_to:
                continue  # the plan ends with (or before) the unit: nothing is owed after
            effective = next_month(unit.valid_to)
            carried = {(plan.province, c) for c in plan.units}
            if plan.successor and (later := plans_by_id.get((plan.successor.province, plan.successor.code or ""))):
                carried |= {(later.province, c) for c in later.units}
            heirs = [by_unit.get((s.province, s.code or "")) for s in unit.successors]
            if not any(h is not None and in_force(h, effective) and _unit_key(h) in carried for h in heirs):
                problems.append(
                    Problem(("plans", f"{plan.province}.{plan.id}", "units", code),
                            f"Kế hoạch {plan.id} vẫn còn hiệu lực sau kỳ {unit.valid_to} nhưng đơn vị {code} chấm dứt "
                            "mà không có đơn vị kế thừa trong kế hoạch: nghĩa vụ báo cáo sẽ không có đơn vị.",
                            "obligation_without_unit")
                )  # fmt: skip
    return problems


def _cycles(units: Sequence[UnitV1]) -> list[Problem]:
    """A successor chain that comes back to where it started."""
    edges = {_unit_key(u): [(s.province, s.code or "") for s in u.successors] for u in units}
    problems, done, path = [], set(), []

    def visit(node: tuple[str, str]) -> None:
        if node in done:
            return
        if node in path:
            cycle = [*path[path.index(node) :], node]
            problems.append(
                Problem(("units", f"{node[0]}.{node[1]}", "successors"),
                        "Vòng lặp đơn vị kế thừa: " + " → ".join(f"{p}.{c}" for p, c in cycle) + ".",
                        "successor_cycle")
            )  # fmt: skip
            return
        path.append(node)
        for nxt in edges.get(node, []):
            visit(nxt)
        path.pop()
        done.add(node)

    for node in edges:
        visit(node)
    return problems
