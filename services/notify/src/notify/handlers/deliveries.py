"""The deliveries of a province as its operators follow them (thông báo đã gửi), and sending one again.

Reads for the pages and the API. `resend` holds the one rule: only a failed delivery goes back to
the sender (gửi lại), asked by the province's own operators or an admin, its attempts counted from
zero and due at once. The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.errors import Conflict, Forbidden, NotFound
from baocao_shared.principal import Principal
from notify.adapters import orm
from notify.domain.delivery import STATUSES

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Filters:
    """Which deliveries of one province to read; None (or empty) means any."""

    province: str
    period: str | None = None
    status: str | None = None
    channel: str | None = None
    unit: str | None = None

    def conditions(self, *, with_status: bool = True) -> list:
        d = orm.deliveries.c
        chosen = [(d.period, self.period), (d.channel, self.channel), (d.unit, self.unit)]
        if with_status:
            chosen.append((d.status, self.status))
        return [d.province == self.province, *(column == value for column, value in chosen if value)]


async def find(
    session: AsyncSession, *, filters: Filters, limit: int, offset: int = 0, newest_first: bool = True
) -> list[Row]:
    """The deliveries that pass `filters`, newest first (or oldest first, as the v1 API lists them)."""
    d = orm.deliveries.c
    order = (d.created_at.desc(), d.id.desc()) if newest_first else (d.created_at, d.id)
    query = select(orm.deliveries).where(*filters.conditions()).order_by(*order).limit(limit).offset(offset)
    return list((await session.execute(query)).all())


async def count_by_status(session: AsyncSession, *, filters: Filters) -> dict[str, int]:
    """How many deliveries pass the filters other than status, per status (every status present)."""
    d = orm.deliveries.c
    query = select(d.status, func.count()).where(*filters.conditions(with_status=False)).group_by(d.status)
    found = dict((await session.execute(query)).all())
    return {status: found.get(status, 0) for status in STATUSES}


async def get(session: AsyncSession, *, delivery_id: uuid.UUID) -> Row | None:
    """One delivery, whatever its province (the caller checks who may read it)."""
    return (await session.execute(select(orm.deliveries).where(orm.deliveries.c.id == delivery_id))).first()


@dataclass(frozen=True)
class Choices:
    """What the filters of a province's deliveries can pick from: periods newest first, units by code."""

    periods: list[str]
    units: list[tuple[str, str]]  # (code, name)


async def choices(session: AsyncSession, *, province: str) -> Choices:
    """The periods and units that a province's deliveries name, with the units' names from the catalogue."""
    d = orm.deliveries.c
    mine = d.province == province
    periods = await session.scalars(select(d.period).where(mine, d.period.is_not(None)).distinct())
    units = await session.scalars(select(d.unit).where(mine, d.unit.is_not(None)).distinct())
    names = await replica.unit_names(session, orm.units, province)
    return Choices(
        periods=sorted(periods, reverse=True),
        units=[(code, names.get(code, code)) for code in sorted(units)],
    )


async def provinces(session: AsyncSession) -> list[tuple[str, str]]:
    """(code, name) of every province in the catalogue or with deliveries, by code."""
    p = orm.provinces.c
    named = dict((await session.execute(select(p.code, p.doc["name"].astext))).all())
    with_deliveries = await session.scalars(select(orm.deliveries.c.province).distinct())
    codes = sorted({*named, *with_deliveries})
    return [(code, named.get(code) or f"Tỉnh mã {code}") for code in codes]


async def resend(session: AsyncSession, *, delivery_id: uuid.UUID, principal: Principal, now: datetime) -> Row:
    """Put a failed delivery back in the sender's queue: pending, no attempts yet, due `now`."""
    d = orm.deliveries
    row = (await session.execute(select(d).where(d.c.id == delivery_id).with_for_update())).first()
    if row is None:
        raise NotFound("There is no delivery with this id.")
    if not principal.may_operate_province(row.province):
        raise Forbidden("Only the province's own operators and admins may send a delivery again.")
    if row.status != "failed":
        raise Conflict(
            f"This delivery is {row.status}, not failed: only a failed delivery can be sent again.",
            details={"status": row.status},
        )
    again = await session.execute(
        update(d)
        .where(d.c.id == delivery_id)
        .values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
        .returning(*d.c)
    )
    log.info("delivery.resend", delivery_id=str(delivery_id), by=principal.subject, previous_error=row.last_error)
    return again.one()
