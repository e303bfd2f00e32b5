"""Characters no service can keep, as pure checks over incoming text.

- NUL (U+0000): PostgreSQL refuses it in text and in JSONB, so a handler would fail with a database error.
- A lone surrogate (U+D800..U+DFFF, e.g. `"\\ud800"` in JSON): it is not a character, UTF-8 cannot encode it.
- In a narrative also the other C0 control characters but tab, newline and carriage return (XML, so the
  DOCX report, refuses them) and the bidirectional controls U+202A..U+202E and U+2066..U+2069 (they make
  a report read in another order than it was written: "Trojan Source").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any


class TooDeep(ValueError):
    """A document nested deeper than the limit."""


# One scan in C per string (it runs on every request body and form field, before authentication).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def bad_character(text: str, *, narrative: bool = False) -> tuple[int, str] | None:
    """The first character that cannot be stored (or, in a narrative, shown): (its index, "U+XXXX")."""
    found = (_UNSHOWABLE if narrative else _UNSTORABLE).search(text)
    return None if found is None else (found.start(), f"U+{ord(found.group()):04X}")


def strings(value: Any, *, max_depth: int) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of a JSON-like value (keys too) with its path; TooDeep past `max_depth` levels.

    Iterative, so a document nested a hundred thousand levels deep costs a loop, not the stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if len(path) > max_depth:
            raise TooDeep(f"nested more than {max_depth} levels deep")
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    yield (*path, key), key
                stack.append(((*path, key), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, i), child) for i, child in enumerate(item))


def first_unstorable(value: Any, *, max_depth: int) -> tuple[tuple[str | int, ...], str] | None:
    """The path and "U+XXXX" of the first string in `value` holding NUL or a lone surrogate."""
    for path, text in strings(value, max_depth=max_depth):
        if found := bad_character(text):
            return path, found[1]
    return None
