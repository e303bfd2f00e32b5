"""The unit of work of deadlines: one transaction over its repositories, with the outbox committing alongside."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
