"""The headers of an event record: the CloudEvents Kafka protocol binding, structured content mode.

A record's value is the whole CloudEvent as JSON (`datacontenttype` application/json inside), its key the
partition key of its type (see the registry), and its headers:

- `content-type: application/cloudevents+json`: the binding's mark of structured mode. A reader of the
  binding picks the mode by the headers: this one says structured, and a `ce_`-prefixed header says binary
  (the binding keeps an event's attributes in `ce_` headers in binary mode; the official Python SDK's
  `from_kafka` reads a record with any `ce_` header as binary). So a structured record carries no `ce_` header.
- `baocao.type`: the event's type again, for our own consumers, who pick the typed parser of a batched handler
  before reading the value (`consumer.parse_record`). Not an attribute of the binding: its readers ignore it.

Records relayed before this scheme carry one `ce_type` header and no `content-type`. They stay on the topics
(and in dead-letter queues): `event_type_of` reads both, and `upgraded` gives an old record's headers the
current scheme when a dead letter is sent back to its topic.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

CONTENT_TYPE = "content-type"
STRUCTURED_JSON = "application/cloudevents+json"
EVENT_TYPE = "baocao.type"
LEGACY_EVENT_TYPE = "ce_type"  # what the relay wrote before; read, never written

Headers = Iterable[tuple[str, bytes | None]]


def record_headers(event_type: str) -> list[tuple[str, bytes]]:
    """The headers the outbox relay sends with an event of `event_type`."""
    return [(CONTENT_TYPE, STRUCTURED_JSON.encode()), (EVENT_TYPE, event_type.encode())]


def event_type_of(headers: Headers | None) -> str | None:
    """The event type a record's headers name: `baocao.type`, else an old record's `ce_type`; None when neither
    has a value (Kafka allows a header without one)."""
    current = legacy = None
    for name, value in headers or ():
        if name == EVENT_TYPE and isinstance(value, bytes):
            current = value
        elif name == LEGACY_EVENT_TYPE and isinstance(value, bytes):
            legacy = value
    found = current if current is not None else legacy
    return None if found is None else _decoded(found)


@functools.lru_cache(maxsize=512)
def _decoded(value: bytes) -> str:
    """A header's text; the few event types are decoded once each (every record of a topic names one)."""
    return value.decode("utf-8", "replace")


def upgraded(headers: Headers | None) -> list[tuple[str, bytes | None]]:
    """An old record's headers in the current scheme (its `ce_type` becomes `baocao.type`, and `content-type`
    says structured mode); the headers of any other record as they are."""
    headers = list(headers or ())
    names = {name for name, _ in headers}
    if LEGACY_EVENT_TYPE not in names:
        return headers
    event_type = event_type_of(headers)
    kept = [(n, v) for n, v in headers if n not in (LEGACY_EVENT_TYPE, EVENT_TYPE, CONTENT_TYPE)]
    if event_type is None:
        return [(CONTENT_TYPE, STRUCTURED_JSON.encode()), *kept]
    return [*record_headers(event_type), *kept]
