"""Characters no service can keep, as pure checks over incoming text.

- NUL (U+0000): PostgreSQL refuses it in text and in JSONB, so a handler would fail with a database error.
- A lone surrogate (U+D800..U+DFFF, e.g. `"\\ud800"` in JSON): it is not a character, UTF-8 cannot encode it.
- In a narrative also the other C0 control characters but tab, newline and carriage return (XML, so the
  DOCX report, refuses them) and the bidirectional controls U+202A..U+202E and U+2066..U+2069 (they make
  a report read in another order than it was written: "Trojan Source").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
LINE_CONTROLS = frozenset("\t\n\r")


class TooDeep(ValueError):
    """A document nested deeper than the limit."""


def _unstorable(ch: str) -> bool:
    return ch == "\x00" or "\ud800" <= ch <= "\udfff"


def bad_character(text: str, *, narrative: bool = False) -> tuple[int, str] | None:
    """The first character that cannot be stored (or, in a narrative, shown): (its index, "U+XXXX")."""
    if text.isprintable() and not any(ch in BIDI_CONTROLS for ch in text):
        return None  # the common case, in one pass over C code (\x00, surrogates and controls are not printable)
    for index, ch in enumerate(text):
        if _unstorable(ch) or (
            narrative and ((ch < " " and ch not in LINE_CONTROLS) or ch == "\x7f" or ch in BIDI_CONTROLS)
        ):
            return index, f"U+{ord(ch):04X}"
    return None


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
