"""Catalogue documents validated once per stored version, not once per request.

A catalogue row (a plan, a province, a unit) holds the entity as its event carries it; validating a plan (its
template, calendar and every unit code) costs more than the rest of a submission's Python. PostgreSQL gives
every committed version of a row a new `xmin`, so a row's (key, xmin) names one document for good: the
submission path reads the versions (a few bytes) and validates a document only the first time it sees that
version. The cache is per process, bounded, and shared by the process's requests (the parsed models are
only read).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

MAX_ENTRIES = 2048  # parsed documents kept (least recently used leave first): plans, provinces, units


class ParsedVersions:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._parsed: OrderedDict[tuple, BaseModel] = OrderedDict()
        self._max = max_entries

    def get(self, model: type[M], key: tuple, version: str | None) -> M | None:
        """The document of `key` at `version` as parsed before; None when not seen (or no version)."""
        if version is None:
            return None
        found = self._parsed.get((model, *key, version))
        if found is not None:
            self._parsed.move_to_end((model, *key, version))
        return found  # type: ignore[return-value]

    def parse(self, model: type[M], key: tuple, version: str, doc: dict) -> M:
        """Validate `doc`, the stored document of `key` at `version`, and keep it."""
        parsed = model.model_validate(doc)
        self._parsed[(model, *key, version)] = parsed
        while len(self._parsed) > self._max:
            self._parsed.popitem(last=False)
        return parsed


PARSED = ParsedVersions()
