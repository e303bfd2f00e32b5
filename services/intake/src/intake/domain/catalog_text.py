"""A catalogue file's text read safely, with the line of every value (pure: no I/O).

Province files (`catalog.py`) and national regimes' files (`regimes.py`) are YAML, or the same document as JSON.
Both are read here: refused when they cannot be read safely (too deep, too big once aliases expand, not YAML or
JSON, a character PostgreSQL cannot store), and each problem found later is reported at its path and line
(`LineIndex`; a JSON text's lines are found as YAML's, JSON being YAML's flow style, only when one is reported).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from baocao_shared.text import first_unstorable

M = TypeVar("M", bound=BaseModel)


@dataclass
class CatalogFileError(Exception):
    """Every problem in a province file, each with its path and, when known, its line."""

    problems: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(
            f"line {p['line']}: {p['path']}: {p['message']}" if p.get("line") else f"{p['path']}: {p['message']}"
            for p in self.problems
        )


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


def read_document(raw: Any, lines: LineIndex, model: type[M], *, keys: str) -> M:
    """A file's document as `model` (a mapping holding `keys`), or CatalogFileError with each problem at its line;
    a character PostgreSQL cannot store is refused first."""
    if not isinstance(raw, dict):
        raise CatalogFileError([{"path": "", "line": 1, "message": f"expected a mapping with {keys}"}])
    refuse_unstorable(raw, lines)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise CatalogFileError([lines.problem(e["loc"], e["msg"]) for e in exc.errors()]) from None


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
