"""A national regime's file (deploy/national/*.yaml) and the rule that every plan naming a regime maps each of its
indicators onto one of the regime's: pure, no I/O.

A regime file has a top-level `regime:` mapping holding a RegimeV1's fields; a province file has `province:`.
`parse_catalog_file` tells them apart, so `catalog load` takes both kinds together. The mapping rule is checked over
the whole catalogue as it would be after a load (`national_problems`), like the structure over time: a plan's
regime may come in the same load, and a regime loaded alone must not leave a stored plan's indicator unmapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from baocao_shared.events.catalog import PlanV1, RegimeV1
from baocao_shared.structure import Problem
from intake.domain.catalog import (
    ProvinceCatalog,
    parse_province_file,
    parse_province_json,
    structure_problems,
    template_problems,
)
from intake.domain.catalog_text import (
    CatalogFileError,
    LineIndex,
    read_document,
    read_json,
    read_yaml,
    validated,
)


class RegimeFile(BaseModel):
    """A national regime's file (deploy/national/*.yaml): `regime` holds a RegimeV1's fields (id, number, title,
    issued_by, template, active)."""

    model_config = ConfigDict(extra="forbid")
    regime: dict[str, Any]


@dataclass(frozen=True)
class RegimeCatalog:
    """A regime file, parsed."""

    regime: RegimeV1
    lines: LineIndex | None = field(default=None, compare=False, repr=False)

    def problem(self, loc: tuple, message: str, kind: str) -> dict[str, Any]:
        return {**(self.lines or LineIndex(None)).problem(("regime", *loc), message), "type": kind}


def parse_regime_file(text: str) -> RegimeCatalog:
    """Validate a regime file (YAML); raise CatalogFileError with every problem found."""
    return _checked_regime(*read_yaml(text))


def parse_regime_json(text: str) -> RegimeCatalog:
    """Validate a regime file sent as JSON: the same document, the same rules, the same problems."""
    return _checked_regime(*read_json(text))


def parse_catalog_file(text: str) -> ProvinceCatalog | RegimeCatalog:
    """A province file or a regime file (YAML), told apart by its top-level key."""
    raw, _ = read_yaml(text)
    return parse_regime_file(text) if isinstance(raw, dict) and "regime" in raw else parse_province_file(text)


def parse_catalog_json(text: str) -> ProvinceCatalog | RegimeCatalog:
    raw, _ = read_json(text)
    return parse_regime_json(text) if isinstance(raw, dict) and "regime" in raw else parse_province_json(text)


def _checked_regime(raw: Any, lines: LineIndex) -> RegimeCatalog:
    parsed = read_document(raw, lines, RegimeFile, keys="regime")
    problems: list[dict[str, Any]] = []
    regime = validated(RegimeV1, parsed.regime, ("regime",), lines, problems)
    if regime is not None:
        problems += template_problems(regime.template, ("regime", "template"), lines)
    if problems:
        raise CatalogFileError(problems)
    return RegimeCatalog(regime=regime, lines=lines)


def _plan_key(plan: PlanV1) -> str:
    return f"{plan.province}.{plan.id}"


def national_problems(regimes: Mapping[str, RegimeV1], plans: Iterable[PlanV1]) -> list[Problem]:
    """What is wrong with the plans' national mappings over this catalogue (regimes by id, the plans in force): a
    regime nobody loaded, a mapping of an indicator the plan does not have, an indicator of the plan that maps to
    nothing in its regime. Each problem is at the plan's entry: ("plans", "<province>.<id>", field, ...)."""
    problems: list[Problem] = []
    for plan in plans:
        if plan.national is None:
            continue
        at = ("plans", _plan_key(plan))
        mapping = plan.national
        regime = regimes.get(mapping.regime)
        if regime is None:
            problems.append(
                Problem((*at, "national", "regime"),
                        f"Không có chế độ báo cáo toàn quốc {mapping.regime!r} (no national regime {mapping.regime!r}"
                        " among the files loaded or stored).", "regime_unknown")
            )  # fmt: skip
            continue
        own = {i.code for task in plan.template.tasks for i in task.indicators}
        for code in mapping.indicators:
            if code not in own:
                problems.append(
                    Problem((*at, "national", "indicators", code),
                            f"Kế hoạch không có chỉ tiêu {code!r} để ánh xạ sang chế độ {regime.id!r} (the plan has "
                            f"no indicator {code!r} to map).", "mapping_unknown_indicator")
                )  # fmt: skip
        theirs = {i.code for task in regime.template.tasks for i in task.indicators}
        for t, task in enumerate(plan.template.tasks):
            for k, indicator in enumerate(task.indicators):
                target = mapping.regime_code(indicator.code)
                if target not in theirs:
                    problems.append(
                        Problem((*at, "template", "tasks", t, "indicators", k),
                                f"Chỉ tiêu {indicator.code!r} ánh xạ sang {target!r}, không có trong chế độ báo cáo "
                                f"toàn quốc {regime.id!r} (indicator {indicator.code!r} maps to nothing in regime "
                                f"{regime.id!r}).", "indicator_unmapped")
                    )  # fmt: skip
    return problems


def national_file_problems(
    provinces: list[ProvinceCatalog], regimes: list[RegimeCatalog], plans: Iterable[PlanV1], problems: list[Problem]
) -> list[dict[str, Any]]:
    """Each problem at its line: a plan's in its province file; a stored plan's (not among the files) at the
    template of the regime file that left it unmapped, naming the plan; else named by its entity, without a line."""
    by_key = {_plan_key(p): p for p in plans}
    loaded = {c.regime.id: c for c in regimes}
    found = []
    for problem in problems:
        if any(c.structure_problem(problem) is not None for c in provinces):
            found += structure_problems(provinces, [problem])
            continue
        plan = by_key.get(str(problem.loc[1]))
        source = loaded.get(plan.national.regime) if plan is not None and plan.national is not None else None
        if source is not None:
            message = f"Kế hoạch {problem.loc[1]} (đã lưu): {problem.msg}"
            found.append(source.problem(("template",), message, problem.type))
        else:
            found += structure_problems(provinces, [problem])
    return found
