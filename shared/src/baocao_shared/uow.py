"""The unit of work: one transaction of a service's database, with the repositories over it, and the events
and audit rows that commit with the state change or not at all (no dual writes).

Whoever calls the use case owns the transaction. A route:

    async with uow:                      # BEGIN; COMMIT when the block ends, ROLLBACK when it raises
        receipt = await submissions.submit(uow, principal=principal, body=body, now=now)

A consumer's handler gets one on the consumer's session; the consumer commits it with its inbox row
(`typed_handler(use_case, uow=IntakeUnitOfWork)` in baocao_shared.messaging.handlers).

A service extends it with its tables, and declares its repositories as annotated attributes; each is built on
the unit of work's session:

    class IntakeUnitOfWork(UnitOfWork):
        source, outbox_table, audit_table = "/baocao/intake", orm.outbox, orm.audit_log

        submissions: SubmissionRepository
        catalog: CatalogRepository

and its unit tests pass a fake with in-memory repositories (baocao_testing.fakes.FakeUnitOfWork records what
was published and audited).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from baocao_shared.audit import record_audit
from baocao_shared.events.registry import EventSpec
from baocao_shared.messaging.outbox import enqueue_rows, enqueue_with_audit, event_rows


class UnitOfWork:
    source: ClassVar[str]  # the CloudEvents `source` of the events this service publishes, e.g. /baocao/intake
    outbox_table: ClassVar[Table]
    audit_table: ClassVar[Table | None] = None

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._transaction: AsyncSessionTransaction | None = None
        self._held: tuple[list[dict], list[dict]] | None = None  # (outbox rows, audit rows) of a together() block
        for name, repository in _repositories(type(self)).items():
            setattr(self, name, repository(session))

    async def __aenter__(self) -> Self:
        self._transaction = self.session.begin()
        await self._transaction.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None, "leaving a unit of work that was not entered"
        await transaction.__aexit__(*exc_info)  # COMMIT, or ROLLBACK when the block raised

    @classmethod
    @asynccontextmanager
    async def begin(cls, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Self]:
        """A unit of work on a session of its own, committed when the block ends: for workers (the scheduler,
        the sender) and commands, which run their own transactions outside a request."""
        async with sessionmaker() as session, cls(session) as uow:
            yield uow

    def savepoint(self) -> AsyncSessionTransaction:
        """A part of the transaction that rolls back alone when its block raises; the rest goes on."""
        return self.session.begin_nested()

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """The audit rows and events of the block are written at its end in one statement (one round trip, not one
        each), still in this transaction; nothing is written when the block raises."""
        if self._held is not None:
            raise RuntimeError("together() blocks do not nest")
        self._held = held = ([], [])
        try:
            yield
        finally:
            self._held = None
        if self.audit_table is None and held[1]:
            raise RuntimeError(f"{type(self).__name__} keeps no audit trail")
        await enqueue_with_audit(self.session, self.outbox_table, self.audit_table, *held)  # type: ignore[arg-type]

    async def publish(
        self, spec: EventSpec, data: BaseModel | Iterable[BaseModel], *, province: str | None, at: datetime
    ) -> None:
        """Events of one type (one per data item) go to the outbox in this transaction; the relay sends them
        to the spec's topic once it commits."""
        items = [data] if isinstance(data, BaseModel) else data
        rows = event_rows(spec, ((item, province, at) for item in items), source=self.source)
        if self._held is not None:
            self._held[0].extend(rows)
            return
        await enqueue_rows(self.session, self.outbox_table, rows)

    async def audit(self, *, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
        """A row of the audit trail, committed with the change it records."""
        if self.audit_table is None:
            raise RuntimeError(f"{type(self).__name__} keeps no audit trail")
        if self._held is not None:
            self._held[1].append({"at": at, "actor": actor, "action": action, "subject": subject, "details": details})
            return
        await record_audit(
            self.session, self.audit_table, at=at, actor=actor, action=action, subject=subject, details=details
        )


@functools.cache
def _repositories(cls: type[UnitOfWork]) -> dict[str, type]:
    """The repositories a unit of work declares: its annotated attributes that the base does not have."""
    own = typing.get_type_hints(UnitOfWork)
    return {
        name: hint for name, hint in typing.get_type_hints(cls).items() if name not in own and isinstance(hint, type)
    }
