"""A province file (YAML, or the same document as JSON) as the catalogue: validation with errors that point at a
line and a path.

Pure rules: no I/O. The loaders turn text into a `ProvinceCatalog` of the same entity models the catalogue events
carry, or raise `CatalogFileError` listing every problem found. Both forms go through the same checks and give
the same problems. Reading the text safely and finding each problem's line is `catalog_text.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from baocao_shared.events.catalog import (
    ContactV1,
    NationalMappingV1,
    PlanV1,
    ProvinceV1,
    SuccessorV1,
    TemplateV1,
    UnitV1,
)
from baocao_shared.structure import Problem
from intake.domain.catalog_text import (
    CatalogFileError,
    LineIndex,
    read_document,
    read_json,
    read_yaml,
    validated,
)


class UnitEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    kind: str = "member"
    contacts: list[ContactV1] = []
    active: bool = True
    active_from: Any = Field(
        None, json_schema_extra={"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
    )
    valid_from: str | None = None  # first period in force (YYYY-MM); checked as UnitV1's
    valid_to: str | None = None  # last period in force (YYYY-MM), inclusive
    successors: list[SuccessorV1] = []  # where its reporting went after valid_to


class PlanEntry(BaseModel):
    """A plan as written in the file: `units` may be `all`."""

    model_config = ConfigDict(extra="forbid")
    id: str
    number: str
    title: str
    issued_on: Any = Field(json_schema_extra={"type": "string", "format": "date"})  # YAML reads it as a date
    first_period: str
    last_period: str | None = None
    tracking_from: str | None = None  # the province's start of tracking; kept as stored when not given
    units: Literal["all"] | list[str] = "all"
    calendar: dict[str, Any]
    template: dict[str, Any]
    report: dict[str, Any]
    active: bool = True
    successor: SuccessorV1 | None = None  # the plan that carries its obligations on after last_period
    national: NationalMappingV1 | None = None  # the national regime it reports into (deploy/national/*.yaml)


class ProvinceFile(BaseModel):
    """A province file: the province, its reporting units and its plans (deploy/provinces/*.yaml). `province`
    holds a ProvinceV1's fields; `calendar`, `template` and `report` those of CalendarV1, TemplateV1 and
    ReportLayoutV1."""

    model_config = ConfigDict(extra="forbid")
    province: dict[str, Any]
    units: list[UnitEntry]
    plans: list[PlanEntry] = []


@dataclass(frozen=True)
class ProvinceCatalog:
    province: ProvinceV1
    units: list[UnitV1]
    plans: list[PlanV1]
    lines: LineIndex | None = field(default=None, compare=False, repr=False)

    def entities(self) -> list[ProvinceV1 | UnitV1 | PlanV1]:
        return [self.province, *self.units, *self.plans]

    def structure_problem(self, problem: Problem) -> dict[str, Any] | None:
        """A problem of the structure over time (baocao_shared.structure) as a problem of this file, at the line
        of the entity it is about; None when it is about another province's entity."""
        kind, key, *rest = problem.loc
        code = self.province.code
        if kind == "provinces":
            if key != code:
                return None
            loc: tuple = ("province", *rest)
        else:
            province, _, name = str(key).partition(".")
            if province != code:
                return None
            if kind == "units":
                index = next((i for i, u in enumerate(self.units) if u.code == name), None)
            else:
                index = next((i for i, p in enumerate(self.plans) if p.id == name), None)
            if index is None:
                return None
            if kind == "plans" and rest[:1] == ["units"] and len(rest) > 1:
                # the plan's list of units, at the unit's entry when the file lists them one by one
                rest = ["units", *([self.plans[index].units.index(rest[1])] if rest[1] in self.plans[index].units
                                  else [])]  # fmt: skip
            loc = (kind, index, *rest)
        lines = self.lines or LineIndex(None)
        return {**lines.problem(loc, problem.msg), "type": problem.type}


def structure_problems(catalogs: list[ProvinceCatalog], problems: list[Problem]) -> list[dict[str, Any]]:
    """Each problem at its line in the file of its province among `catalogs`; one about an entity no file given
    holds (already stored) is named by its entity, without a line."""
    found = []
    for problem in problems:
        mapped = next((m for c in catalogs if (m := c.structure_problem(problem)) is not None), None)
        if mapped is None:
            kind, key, *rest = problem.loc
            path = f"{kind}[{key}]" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
            mapped = {"path": path, "line": None, "message": problem.msg, "type": problem.type}
        found.append(mapped)
    return found


def parse_province_file(text: str) -> ProvinceCatalog:
    """Validate a province file; raise CatalogFileError with every problem found."""
    return _checked(*read_yaml(text))


def parse_province_json(text: str) -> ProvinceCatalog:
    """Validate a province file sent as JSON: the same document, the same rules, the same problems."""
    return _checked(*read_json(text))


def _checked(raw: Any, lines: LineIndex) -> ProvinceCatalog:
    """The document's checks, whichever text it came from."""
    return _build(read_document(raw, lines, ProvinceFile, keys="province, units, plans"), lines)


def _build(parsed: ProvinceFile, lines: LineIndex) -> ProvinceCatalog:
    problems: list[dict[str, Any]] = []
    province = validated(ProvinceV1, parsed.province, ("province",), lines, problems)
    code = province.code if province else str(parsed.province.get("code", ""))
    if province:
        try:
            ZoneInfo(province.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(lines.problem(("province", "timezone"), f"unknown time zone {province.timezone!r}"))

    units: list[UnitV1] = []
    seen_units: dict[str, int] = {}
    for i, entry in enumerate(parsed.units):
        if entry.code in seen_units:
            problems.append(lines.problem(("units", i, "code"), f"unit code {entry.code!r} appears twice"))
        seen_units[entry.code] = i
        unit = validated(UnitV1, {**entry.model_dump(), "province": code}, ("units", i), lines, problems)
        if unit:
            units.append(unit)

    plans: list[PlanV1] = []
    for i, entry in enumerate(parsed.plans):
        unit_codes = list(seen_units) if entry.units == "all" else entry.units
        for j, unit_code in enumerate(unit_codes):
            if unit_code not in seen_units:
                problems.append(lines.problem(("plans", i, "units", j), f"no unit with code {unit_code!r}"))
        plan = validated(
            PlanV1, {**entry.model_dump(), "units": unit_codes, "province": code}, ("plans", i), lines, problems
        )
        if plan:
            problems += template_problems(plan.template, ("plans", i, "template"), lines)
            plans.append(plan)
    if problems:
        raise CatalogFileError(problems)
    assert province is not None
    return ProvinceCatalog(province=province, units=units, plans=plans, lines=lines)


def template_problems(template: TemplateV1, where: tuple, lines: LineIndex) -> list[dict[str, Any]]:
    """A template's own problems (an indicator code twice, no task), at their lines under `where`."""
    problems = []
    seen: set[str] = set()
    for t, task in enumerate(template.tasks):
        for k, indicator in enumerate(task.indicators):
            if indicator.code in seen:
                at = (*where, "tasks", t, "indicators", k, "code")
                problems.append(lines.problem(at, f"indicator {indicator.code!r} appears twice"))
            seen.add(indicator.code)
    if not template.tasks:
        problems.append(lines.problem((*where, "tasks"), "a template needs at least one task"))
    return problems
