"""Every event type: its topic, its data model and how its record key is made.

Consumers look a type up here to parse `data`; producers use `make_event` so an event always
matches its published schema. The schema export and the AsyncAPI document are generated from it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from baocao_shared.events.envelope import CloudEvent


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: type[BaseModel]
    key: Callable[[Any], str]
    subject: Callable[[Any], str]
    description: str

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])


EVENTS: dict[str, EventSpec] = {}
_TYPE = re.compile(CloudEvent.model_fields["type"].metadata[0].pattern)


def register(spec: EventSpec) -> EventSpec:
    if spec.type in EVENTS:
        raise ValueError(f"event type {spec.type} is registered twice")
    if not _TYPE.fullmatch(spec.type):  # checked once here, so an envelope of a registered type needs no check
        raise ValueError(f"event type {spec.type} does not match {_TYPE.pattern}")
    EVENTS[spec.type] = spec
    return spec


def events_on(topic: str, *, key: Callable[[Any], str], subject: Callable[[Any], str]) -> Callable[..., EventSpec]:
    """A registrar for the events of one topic whose record key and subject are made alike:

    report_event = events_on(topics.REPORTS, key=province_key, subject=plan_period_subject)
    REPORT_APPROVED = report_event("vn.baocao.report.approved.v1", ReportStatusV1, "A province operator ...")
    """

    def event(type: str, model: type[BaseModel], description: str) -> EventSpec:
        return register(
            EventSpec(type=type, topic=topic, model=model, key=key, subject=subject, description=description)
        )

    return event


def province_key(e: Any) -> str:
    """Keeps a province's events in order: `<province>`."""
    return e.province


def unit_key(e: Any) -> str:
    """Keeps one unit's events in order: `<province>.<unit>`."""
    return f"{e.province}.{e.unit}"


def unit_period_subject(e: Any) -> str:
    return f"{e.province}/{e.unit}/{e.period}"


def plan_period_subject(e: Any) -> str:
    return f"{e.province}/{e.plan_id}/{e.period}"


class UnknownEventType(LookupError):
    pass


def spec_for(event_type: str) -> EventSpec:
    try:
        return EVENTS[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def make_event(
    spec: EventSpec,
    data: BaseModel,
    *,
    source: str,
    province: str | None = None,
    correlation_id: str | None = None,
    time: datetime | None = None,
) -> tuple[CloudEvent, str]:
    """Wrap `data` in an envelope; return the event and its record key."""
    if not isinstance(data, spec.model):
        raise TypeError(f"{spec.type} carries {spec.model.__name__}, not {type(data).__name__}")
    extra: dict[str, Any] = {"time": time} if time else {}
    event = CloudEvent(
        source=source,
        type=spec.type,
        subject=spec.subject(data),
        data=data.model_dump(mode="json"),
        province=province,
        correlationid=correlation_id,
        **extra,
    )
    return event, spec.key(data)


def new_event_ids(count: int) -> list[uuid.UUID]:
    """`count` random (version 4) event ids, from one read of the OS's random source."""
    raw = os.urandom(16 * count)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def envelope_of(
    spec: EventSpec,
    data: BaseModel,
    *,
    event_id: uuid.UUID,
    source: str,
    province: str | None,
    time: datetime | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """The event as `make_event(...)[0].model_dump(mode="json")` has it once serialized to JSON, field for
    field, but holding `data` itself: pydantic-core writes it in the same pass as the envelope
    (`pydantic_core.to_json`), so the data is dumped once and the envelope is not validated again. For data
    built by our own typed code (a model validated when it was made); the envelope's own rules hold by
    construction: the type was checked when it was registered, the id is fresh, the source is ours."""
    if not isinstance(data, spec.model):
        raise TypeError(f"{spec.type} carries {spec.model.__name__}, not {type(data).__name__}")
    if not source:
        raise ValueError("an event needs a source")
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": spec.type,
        "time": time or datetime.now(UTC),
        "subject": spec.subject(data),
        "datacontenttype": "application/json",
        "data": data,
        "province": province,
        "correlationid": correlation_id,
    }


def parse_data(event: CloudEvent) -> BaseModel:
    """The typed data of an event; raises on an unknown type or invalid data."""
    return spec_for(event.type).model.model_validate(event.data)
