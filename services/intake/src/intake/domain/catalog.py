"""A province file (YAML, or the same document as JSON) as the catalogue: validation with errors that point at a
line and a path.

Pure rules: no I/O. The loaders turn text into a `ProvinceCatalog` of the same entity models the catalogue events
carry, or raise `CatalogFileError` listing every problem found. Both forms go through the same checks and give
the same problems; a JSON text's lines are found as YAML's (JSON is YAML's flow style), only when one is reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
from baocao_shared.text import first_unstorable


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


@dataclass
class CatalogFileError(Exception):
    """Every problem in a province file, each with its path and, when known, its line."""

    problems: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(
            f"line {p['line']}: {p['path']}: {p['message']}" if p.get("line") else f"{p['path']}: {p['message']}"
            for p in self.problems
        )


def parse_province_file(text: str) -> ProvinceCatalog:
    """Validate a province file; raise CatalogFileError with every problem found."""
    return _checked(*read_yaml(text))


def parse_province_json(text: str) -> ProvinceCatalog:
    """Validate a province file sent as JSON: the same document, the same rules, the same problems."""
    return _checked(*read_json(text))


def read_yaml(text: str) -> tuple[Any, LineIndex]:
    """A catalogue file's YAML document and the index of its lines, refused (CatalogFileError) when it cannot be
    read safely: too deep, too big once its aliases expand, not YAML."""
    if _flow_depth(text) > MAX_DEPTH:  # PyYAML takes seconds for 10,000 nested [ and grows quadratically
        raise CatalogFileError([{"path": "", "line": None, "message": f"nested more than {MAX_DEPTH} levels deep"}])
    try:
        root = yaml.compose(text)
        if message := _too_big(root):  # before anything expands the aliases
            raise CatalogFileError([{"path": "", "line": None, "message": message}])
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogFileError(
            [{"path": "", "line": mark.line + 1 if mark else None, "message": f"not valid YAML: {exc}"}]
        ) from None
    except RecursionError:
        raise CatalogFileError([{"path": "", "line": None, "message": "nested too deeply to read"}]) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CatalogFileError([{"path": "", "line": None, "message": f"not valid YAML: {exc}"}]) from None
    return raw, LineIndex(root)


def read_json(text: str) -> tuple[Any, LineIndex]:
    """A catalogue file's JSON document and the index of its lines (found as YAML's when a problem is reported)."""
    text = text.removeprefix("\ufeff")
    if _flow_depth(text) > MAX_DEPTH:
        raise CatalogFileError([{"path": "", "line": None, "message": f"nested more than {MAX_DEPTH} levels deep"}])
    try:
        raw = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(
            [{"path": "", "line": exc.lineno, "message": f"not valid JSON: {exc.msg} (column {exc.colno})"}]
        ) from None
    except RecursionError:
        raise CatalogFileError([{"path": "", "line": None, "message": "nested too deeply to read"}]) from None
    except ValueError as exc:  # an integer of more than 4300 digits, NaN or Infinity
        raise CatalogFileError([{"path": "", "line": None, "message": f"not valid JSON: {exc}"}]) from None
    if _values(raw) > MAX_VALUES:
        raise CatalogFileError([{"path": "", "line": None, "message": f"more than {MAX_VALUES:,} values"}])
    return raw, _LinesOfJson(text)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")


def _values(raw: Any) -> int:
    count, stack = 0, [raw]
    while stack:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def _checked(raw: Any, lines: LineIndex) -> ProvinceCatalog:
    """The document's checks, whichever text it came from."""
    if not isinstance(raw, dict):
        raise CatalogFileError([{"path": "", "line": 1, "message": "expected a mapping with province, units, plans"}])
    refuse_unstorable(raw, lines)
    try:
        parsed = ProvinceFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogFileError([lines.problem(e["loc"], e["msg"]) for e in exc.errors()]) from None
    return _build(parsed, lines)


def refuse_unstorable(raw: Any, lines: LineIndex) -> None:
    """Refuse a document holding a character PostgreSQL cannot store, at its line."""
    if unstorable := first_unstorable(raw, max_depth=MAX_DEPTH):
        path, character = unstorable
        raise CatalogFileError([lines.problem(path, f"holds {character}, a character that cannot be stored")])


MAX_VALUES = 100_000  # the Hải Dương file has about 600; a "billion laughs" file, 10^9 once its aliases expand
MAX_DEPTH = 20


_QUOTED_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'|#[^\n]*')


def _flow_depth(text: str) -> int:
    """How deep [ ] and { } nest outside quotes and comments (a cheap bound, read before the YAML parser)."""
    depth = deepest = 0
    for ch in _QUOTED_OR_COMMENT.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _too_big(root: yaml.Node | None) -> str | None:
    """Why the document is refused before it is built: too many values once aliases expand, or too deep."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)] if root is not None else []
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        if children_done:
            sizes[id(node)] = 1 + sum(sizes.get(id(child), MAX_VALUES) for child in children)
            if sizes[id(node)] > MAX_VALUES:
                return f"more than {MAX_VALUES:,} values once its aliases (*name) are expanded"
        elif id(node) not in sizes:
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
    return None


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


def _unknown_keys(model: type[BaseModel], data: Any, where: tuple) -> list[tuple[tuple, str]]:
    """Keys the model does not know, at any depth: a typo must not be silently dropped."""
    if not isinstance(data, dict):
        return []
    found = [((*where, key), key) for key in data if key not in model.model_fields]
    for name, info in model.model_fields.items():
        value, inner = data.get(name), _model_of(info.annotation)
        if inner is None or value is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            found += _unknown_keys(inner, item, (*where, name) if index is None else (*where, name, index))
    return found


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def validated(model, data, where, lines: LineIndex, problems: list) -> Any:
    problems.extend(lines.problem(loc, f"unknown field {key!r}") for loc, key in _unknown_keys(model, data, where))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(lines.problem((*where, *e["loc"]), e["msg"]) for e in exc.errors())
        return None


class LineIndex:
    """Maps a validation path like ('units', 3, 'code') to its line in the YAML text."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root

    def line(self, loc: tuple) -> int | None:
        node, best = self._root, None
        for part in loc:
            if node is None:
                break
            best = node.start_mark.line + 1
            node = self._child(node, part)
        return node.start_mark.line + 1 if node is not None else best

    @staticmethod
    def _child(node: yaml.Node, part: Any) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    return value
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            return node.value[part]
        return None

    def problem(self, loc: tuple, message: str) -> dict[str, Any]:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        return {"path": path, "line": self.line(loc), "message": message}


class _LinesOfJson(LineIndex):
    """Lines in a JSON text, found when the first problem is reported (valid JSON is valid YAML: its composer
    marks them); None when YAML reads the text otherwise."""

    def __init__(self, text: str) -> None:
        super().__init__(None)
        self._text: str | None = text

    def line(self, loc: tuple) -> int | None:
        if self._text is not None:
            text, self._text = self._text, None
            try:
                self._root = yaml.compose(text)
            except (yaml.YAMLError, RecursionError, ValueError):
                self._root = None
        return super().line(loc)
