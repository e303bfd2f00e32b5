"""A fetched batch of a partition: each record read as its event (in one pass with its typed data when the
header names a type handled here), and the batch applied in the caller's transaction with one inbox insert
and each run of events applied together. The live consumer and the rebuild share it."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ValidationError, create_model
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import EVENTS, parse_data
from baocao_shared.messaging.handlers import Handler
from baocao_shared.messaging.headers import event_type_of


class Parsed(NamedTuple):
    """A record and what it holds: its event (None when it is not one) and, for an event handled here, its
    typed data when it was read in the same pass (None otherwise). A tuple: one is made per record."""

    record: ConsumerRecord
    event: CloudEvent | None
    data: BaseModel | None = None


def parse_record(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> Parsed:
    """The record's event. When its type header (`baocao.type`, or an old record's `ce_type`) names a type
    handled here, the envelope and the typed data are read in one pass of pydantic-core over the record's bytes
    (the event's `data` is then the typed model, which `parse_data` returns as it is); anything unexpected there
    falls back to the envelope alone (the data is then checked when the event is applied, as live)."""
    typed = _typed_envelope(record, handlers)
    if typed is not None:
        return Parsed(record, typed, typed.data)
    try:
        return Parsed(record, CloudEvent.from_bytes(record.value))
    except (ValueError, ValidationError):
        return Parsed(record, None)


def _typed_envelope(record: ConsumerRecord, handlers: Mapping[str, Handler]) -> CloudEvent | None:
    event_type = event_type_of(record.headers)
    if event_type not in handlers or event_type not in EVENTS:
        return None
    try:
        event = _envelope_of(EVENTS[event_type].model).model_validate_json(record.value or b"")
    except (ValueError, ValidationError):
        return None
    return event if event.type == event_type else None


@functools.cache
def _envelope_of(model: type[BaseModel]) -> type[CloudEvent]:
    """A CloudEvent whose `data` is read straight into `model`."""
    return create_model(f"{model.__name__}Event", __base__=CloudEvent, data=(model, ...))


async def apply_together(
    session, batch: Sequence[Parsed], handlers: Mapping[str, Handler], inbox: Table, group_label: str
) -> list[bool | None]:
    """Apply a partition's batch in the caller's transaction: one inbox insert for its events (the
    duplicates fall out), then each run of consecutive events whose handlers share a `many` use case
    in one call of it, the others one by one. Per record: True applied, False a duplicate or of a type
    nobody here handles, None not an event. Raises what a handler raises: the caller rolls back and
    goes record by record."""
    results: list[bool | None] = [None if p.event is None else False for p in batch]
    first: dict[Any, int] = {}  # event id -> where its first delivery is in the batch
    for i, p in enumerate(batch):
        if p.event is not None and p.event.type in handlers:
            first.setdefault(p.event.id, i)
    if not first:
        return results
    rows = {"group": group_label, "ids": list(first), "types": [batch[i].event.type for i in first.values()]}
    new = set((await session.execute(_inbox_insert(inbox), rows)).scalars())
    fresh = [i for event_id, i in first.items() if event_id in new]
    for run in _runs([batch[i] for i in fresh], handlers):
        many = getattr(handlers[run[0].event.type], "many", None)
        if many is not None:
            await many(session, [p.data if p.data is not None else parse_data(p.event) for p in run])
        else:
            for p in run:
                await handlers[p.event.type](session, p.event)
    for i in fresh:
        results[i] = True
    return results


@functools.cache
def _inbox_insert(inbox: Table):
    """The inbox rows of many events in one statement of one shape (arrays, not a VALUES row per
    event: PostgreSQL plans it once), returning the ids that were not there yet."""
    rows = select(
        bindparam("group", type_=inbox.c.consumer_group.type),
        func.unnest(bindparam("ids", type_=ARRAY(inbox.c.event_id.type))),
        func.unnest(bindparam("types", type_=ARRAY(inbox.c.event_type.type))),
    )
    return (
        insert(inbox)
        .from_select(["consumer_group", "event_id", "event_type"], rows)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )


def _runs(batch: list[Parsed], handlers: Mapping[str, Handler]) -> list[list[Parsed]]:
    """Consecutive events whose handlers share one `many` use case go together; the others alone."""
    runs: list[list[Parsed]] = []
    for p in batch:
        many = getattr(handlers[p.event.type], "many", None)
        if runs and many is not None and getattr(handlers[runs[-1][0].event.type], "many", None) is many:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs
