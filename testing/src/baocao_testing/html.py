"""Reading server-rendered pages in tests without a browser: elements, labels, texts, forms, CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx


@dataclass
class Page(HTMLParser):
    """The elements of a page with their attributes, label texts by `for`, and element texts by id."""

    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    _open: list[tuple[str, str]] = field(default_factory=list)  # (tag, key) of elements whose text we collect

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        return page

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag == "label" and "for" in attributes:
            self._open.append((tag, "label:" + attributes["for"]))
        elif "id" in attributes and tag not in ("input", "br", "img", "meta", "link"):
            self._open.append((tag, attributes["id"]))
        elif tag == "legend":
            self._open.append((tag, f"legend:{sum(1 for t, _ in self.elements if t == 'legend')}"))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, key in self._open:
            if key.startswith("label:"):
                self.labels[key[6:]] = self.labels.get(key[6:], "") + data
            else:
                self.texts[key] = self.texts.get(key, "") + data

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def label(self, field_id: str) -> str:
        return " ".join(self.labels.get(field_id, "").split())

    def text(self, element_id: str) -> str:
        return " ".join(self.texts.get(element_id, "").split())

    def legends(self) -> list[str]:
        return [" ".join(v.split()) for k, v in sorted(self.texts.items()) if k.startswith("legend:")]

    def form_data(self) -> dict[str, str]:
        """The inputs and textareas of the page's forms as a browser would post them (last form wins)."""
        data = {a["name"]: a.get("value", "") for a in self.all("input") if "name" in a}
        for a in self.all("textarea"):
            data[a["name"]] = self.text(a["id"]) if a.get("id") else ""
        return data


def csrf_of(answer: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
    assert match, "the page has no CSRF field"
    return match.group(1)
