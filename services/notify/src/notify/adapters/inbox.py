"""The `inbox_messages` table: the in-app inbox of each account (its `recipient` is the account name)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import orm
from notify.domain.delivery import Delivery
from notify.domain.inbox import InboxMessage

m = orm.inbox_messages


def _message(row: Any) -> InboxMessage:
    return InboxMessage(**row._mapping)


class InboxMessages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def receive(self, delivery: Delivery) -> None:
        """The message of an inbox delivery, in its recipient's inbox."""
        await self.session.execute(
            m.insert().values(
                id=uuid.uuid4(),
                delivery_id=delivery.id,
                recipient=delivery.recipient,
                title=delivery.subject,
                body=delivery.body_text,
            )
        )

    async def newest(self, recipient: str, *, limit: int) -> list[InboxMessage]:
        query = select(m).where(m.c.recipient == recipient).order_by(m.c.created_at.desc(), m.c.id.desc())
        return [_message(row) for row in await self.session.execute(query.limit(limit))]

    async def count_unread(self, recipient: str) -> int:
        unread = select(func.count()).where(m.c.recipient == recipient, m.c.read_at.is_(None))
        return await self.session.scalar(unread) or 0

    async def mark_read(self, message_id: uuid.UUID, *, recipient: str, now: datetime) -> InboxMessage | None:
        """Mark the recipient's message read (the first reading time stays); None when the recipient has no such."""
        found = await self.session.execute(
            update(m)
            .where(m.c.id == message_id, m.c.recipient == recipient)
            .values(read_at=func.coalesce(m.c.read_at, now))
            .returning(*m.c)
        )
        row = found.first()
        return _message(row) if row else None

    async def mark_all_read(self, recipient: str, *, now: datetime) -> int:
        """Mark every unread message of the recipient read; how many were unread."""
        done = await self.session.execute(
            update(m).where(m.c.recipient == recipient, m.c.read_at.is_(None)).values(read_at=now).returning(m.c.id)
        )
        return len(done.all())
