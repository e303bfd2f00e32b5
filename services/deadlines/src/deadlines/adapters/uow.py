"""The unit of work of deadlines: one transaction over its repositories, with the outbox committing alongside."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from baocao_shared.events.registry import EventSpec
from baocao_shared.messaging.outbox import enqueue_rows, event_rows
from baocao_shared.uow import UnitOfWork
from deadlines.adapters import orm
from deadlines.adapters.catalog import Catalogue
from deadlines.adapters.notices import Notices
from deadlines.adapters.obligations import Obligations
from deadlines.adapters.periods import Periods
from deadlines.adapters.province_obligations import ProvinceObligations
from deadlines.adapters.schedule import Schedule

Sessions = async_sessionmaker[AsyncSession]


class DeadlinesUnitOfWork(UnitOfWork):
    source = "/baocao/deadlines"
    outbox_table = orm.outbox

    catalog: Catalogue
    periods: Periods
    obligations: Obligations
    schedule: Schedule
    notices: Notices
    province_obligations: ProvinceObligations

    async def publish_each(self, spec: EventSpec, items: Iterable[tuple[BaseModel, str | None, datetime]]) -> None:
        """Events of one type, each (data, province, at) with its own province and time, to the outbox in one
        statement: a run of submissions announces each obligation at its own submission's time."""
        await enqueue_rows(self.session, self.outbox_table, event_rows(spec, items, source=self.source))
