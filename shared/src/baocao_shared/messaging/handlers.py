"""Consumer handlers: a use case that takes an event's typed data, adapted into what the consumer calls for a
record (`typed_handler`), with the unit of work it runs in and, for runs of events, the use case that applies
them together. Each service's `consumers.py` maps event types to these; that map is the one place that says who
reacts to what."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.registry import parse_data

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
# Applies a run of events at once: their typed data, in the order of the partition.
ManyUseCase = Callable[[AsyncSession, list[Any]], Awaitable[None]]


def typed_handler(
    use_case: Callable[[Any, Any], Awaitable[None]],
    *,
    many: Callable[[Any, list[Any]], Awaitable[None]] | None = None,
    uow: Callable[[AsyncSession], Any] | None = None,
) -> Handler:
    """Adapt a use case that takes the event's typed data into a consumer handler.

    With `uow` (a service's UnitOfWork class), the use case gets one built on the consumer's session, whose
    transaction the consumer owns (it commits the effect with the inbox row); without it, the session itself.

    `many`, when given, must leave the same state as `use_case` applied to each event of the run in
    turn; a batch applies consecutive events whose handlers share one `many` with one call of it
    (`handler.many`), and falls back to `use_case` one by one when that call fails."""
    wrap = uow or _session_itself

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        await use_case(wrap(session), parse_data(event))

    handle.__name__ = getattr(use_case, "__name__", "handle")
    handle.many = None if many is None else _many_on(many, wrap)  # type: ignore[attr-defined]
    return handle


def _session_itself(session: AsyncSession) -> AsyncSession:
    return session


@functools.cache
def _many_on(many: Callable[[Any, list[Any]], Awaitable[None]], wrap: Callable[[AsyncSession], Any]) -> ManyUseCase:
    """One adapted `many` per use case and wrapper: handlers that share a `many` share its adapter, which is
    how a batch knows that their events form one run."""

    async def apply(session: AsyncSession, items: list[Any]) -> None:
        await many(wrap(session), items)

    apply.__name__ = getattr(many, "__name__", "apply")
    return apply
