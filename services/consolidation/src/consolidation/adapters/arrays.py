"""Set-based writes: one statement for a whole run of rows, whatever its length."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert, insert


def insert_from_arrays(table: Table, columns: Sequence[str]) -> Insert:
    """An INSERT of a row per element of one array per column (the same statement whatever the number
    of rows: PostgreSQL plans it once); a JSON column's array holds the documents' text."""

    def column(name: str):
        if isinstance(table.c[name].type, JSONB):
            return cast(func.unnest(bindparam(name, type_=ARRAY(Text))), JSONB)
        return func.unnest(bindparam(name, type_=ARRAY(table.c[name].type)))

    return insert(table).from_select(list(columns), select(*(column(c) for c in columns)))


def as_arrays(items: Iterable[Any], columns: Sequence[str], *, json: Sequence[str] = ()) -> dict[str, list]:
    """The items' attributes as one list per column; the JSON documents as their text, which PostgreSQL reads."""
    items = list(items)
    arrays = {c: [getattr(item, c) for item in items] for c in columns}
    for c in json:
        arrays[c] = [to_json(document).decode() for document in arrays[c]]
    return arrays
