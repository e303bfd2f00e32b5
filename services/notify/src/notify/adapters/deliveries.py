"""The `deliveries` table: every statement that reads or changes a delivery.

The consumer only inserts (each (event, recipient, channel) once, by the table's unique constraint); the
sender claims, retries and settles; the API and the pages read a province's list and send a failed one again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import orm
from notify.domain.delivery import Delivery, Filters, NewDelivery

d = orm.deliveries


def _delivery(row: Any) -> Delivery:
    return Delivery(**row._mapping)


def _conditions(filters: Filters, *, with_status: bool = True) -> list:
    chosen = [(d.c.period, filters.period), (d.c.channel, filters.channel), (d.c.unit, filters.unit)]
    if with_status:
        chosen.append((d.c.status, filters.status))
    return [d.c.province == filters.province, *(column == value for column, value in chosen if value)]


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(self, deliveries: Sequence[NewDelivery]) -> int:
        """Insert the pending deliveries, skipping any whose (event, recipient, channel) is there; how many are new."""
        if not deliveries:
            return 0
        rows = [asdict(delivery) for delivery in deliveries]
        inserted = await self.session.execute(insert(d).values(rows).on_conflict_do_nothing().returning(d.c.id))
        return len(inserted.all())

    async def get(self, delivery_id: uuid.UUID, *, for_update: bool = False) -> Delivery | None:
        """One delivery, whatever its province; `for_update` holds it until commit."""
        query = select(d).where(d.c.id == delivery_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).first()
        return _delivery(row) if row else None

    async def find(self, filters: Filters, *, limit: int, offset: int = 0, newest_first: bool = True) -> list[Delivery]:
        order = (d.c.created_at.desc(), d.c.id.desc()) if newest_first else (d.c.created_at, d.c.id)
        query = select(d).where(*_conditions(filters)).order_by(*order).limit(limit).offset(offset)
        return [_delivery(row) for row in await self.session.execute(query)]

    async def count_by_status(self, filters: Filters) -> dict[str, int]:
        """How many pass the filters other than status, per status found."""
        query = select(d.c.status, func.count()).where(*_conditions(filters, with_status=False)).group_by(d.c.status)
        return dict((await self.session.execute(query)).all())

    async def periods(self, province: str) -> list[str]:
        """The periods the province's deliveries name, each once."""
        found = select(d.c.period).where(d.c.province == province, d.c.period.is_not(None)).distinct()
        return list(await self.session.scalars(found))

    async def units(self, province: str) -> list[str]:
        """The units the province's deliveries name, each once."""
        found = select(d.c.unit).where(d.c.province == province, d.c.unit.is_not(None)).distinct()
        return list(await self.session.scalars(found))

    async def provinces(self) -> set[str]:
        """The provinces that have deliveries."""
        return set(await self.session.scalars(select(d.c.province).distinct()))

    async def requeue(self, delivery_id: uuid.UUID, *, now: datetime) -> Delivery:
        """Back in the sender's queue: pending, no attempts yet, due `now`."""
        again = await self.session.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
            .returning(*d.c)
        )
        return _delivery(again.one())

    async def claim_due(self, *, now: datetime) -> Delivery | None:
        """The pending delivery due longest, held until commit; one another sender holds is skipped."""
        row = (
            await self.session.execute(
                select(d)
                .where(d.c.status == "pending", d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        return _delivery(row) if row else None

    async def retry_later(
        self, delivery_id: uuid.UUID, *, attempts: int, last_error: str, next_attempt_at: datetime
    ) -> None:
        await self.session.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(attempts=attempts, last_error=last_error, next_attempt_at=next_attempt_at)
        )

    async def settle(
        self, delivery_id: uuid.UUID, *, status: str, attempts: int, last_error: str | None, sent_at: datetime | None
    ) -> None:
        """The outcome: sent (at `sent_at`) or failed for good."""
        values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": last_error}
        if sent_at is not None:
            values["sent_at"] = sent_at
        await self.session.execute(update(d).where(d.c.id == delivery_id).values(**values))
