"""An account's in-app inbox (hộp thư): its messages, newest first, and marking them read.

A message belongs to the account it is addressed to (`recipient` is the account name); nobody else
reads or marks it, and to them it does not exist. The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import NotFound
from notify.adapters import orm


async def messages(session: AsyncSession, *, recipient: str, limit: int) -> list[Row]:
    """The account's newest `limit` messages, newest first."""
    m = orm.inbox_messages.c
    query = select(orm.inbox_messages).where(m.recipient == recipient).order_by(m.created_at.desc(), m.id.desc())
    return list((await session.execute(query.limit(limit))).all())


async def count_unread(session: AsyncSession, *, recipient: str) -> int:
    """How many of the account's messages it has not read."""
    m = orm.inbox_messages.c
    return await session.scalar(select(func.count()).where(m.recipient == recipient, m.read_at.is_(None))) or 0


async def mark_read(session: AsyncSession, *, recipient: str, message_id: uuid.UUID, now: datetime) -> Row:
    """Mark one of the account's messages read (again is harmless: the first reading time stays)."""
    m = orm.inbox_messages
    found = await session.execute(
        update(m)
        .where(m.c.id == message_id, m.c.recipient == recipient)
        .values(read_at=func.coalesce(m.c.read_at, now))
        .returning(*m.c)
    )
    row = found.first()
    if row is None:
        raise NotFound("There is no message with this id in your inbox.")
    return row


async def mark_all_read(session: AsyncSession, *, recipient: str, now: datetime) -> int:
    """Mark every unread message of the account read; returns how many were unread."""
    m = orm.inbox_messages
    done = await session.execute(
        update(m).where(m.c.recipient == recipient, m.c.read_at.is_(None)).values(read_at=now).returning(m.c.id)
    )
    return len(done.all())
