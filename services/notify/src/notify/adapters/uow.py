"""notify's unit of work: one transaction over its tables, with the events it publishes in the same commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from baocao_shared.uow import UnitOfWork
from notify.adapters import orm
from notify.adapters.catalog import Catalogue
from notify.adapters.deliveries import DeliveryRepository
from notify.adapters.inbox import InboxMessages
from notify.adapters.waiting import WaitingNotices


class NotifyUnitOfWork(UnitOfWork):
    source, outbox_table = "/baocao/notify", orm.outbox  # notify keeps no audit trail

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.deliveries = DeliveryRepository(session)
        self.waiting = WaitingNotices(session)
        self.catalog = Catalogue(session)
        self.inbox = InboxMessages(session)

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A part of the transaction that rolls back alone when it raises (the rest goes on)."""
        return self.session.begin_nested()


def units_of_work(sessionmaker: async_sessionmaker) -> Callable[[], AbstractAsyncContextManager[NotifyUnitOfWork]]:
    """A new unit of work on a fresh session at each call, for a worker that runs its own transactions."""

    @asynccontextmanager
    async def fresh() -> AsyncIterator[NotifyUnitOfWork]:
        async with sessionmaker() as session, NotifyUnitOfWork(session) as uow:
            yield uow

    return fresh
