"""The caller's in-app inbox (hộp thư): its messages, newest first, and marking them read.

A message belongs to the account it is addressed to (`recipient` is the account name): the use cases read
and mark only the caller's own, and to anyone else a message does not exist. The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from baocao_shared.principal import Principal
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.errors import NotYourMessage
from notify.domain.inbox import InboxMessage


async def messages(uow: NotifyUnitOfWork, *, principal: Principal, limit: int) -> list[InboxMessage]:
    """The caller's newest `limit` messages, newest first."""
    return await uow.inbox.newest(principal.subject, limit=limit)


@dataclass(frozen=True)
class Inbox:
    messages: list[InboxMessage]
    unread: int
    timezone: str  # the caller's province's wall clock, else Vietnam's


async def inbox(uow: NotifyUnitOfWork, *, principal: Principal, limit: int) -> Inbox:
    """The caller's inbox page: the newest messages, how many are unread, and the clock to show them on."""
    return Inbox(
        messages=await uow.inbox.newest(principal.subject, limit=limit),
        unread=await uow.inbox.count_unread(principal.subject),
        timezone=(await uow.catalog.place(principal.province)).timezone,
    )


async def mark_read(
    uow: NotifyUnitOfWork, *, principal: Principal, message_id: uuid.UUID, now: datetime
) -> InboxMessage:
    """Mark one of the caller's messages read (again is harmless: the first reading time stays)."""
    marked = await uow.inbox.mark_read(message_id, recipient=principal.subject, now=now)
    if marked is None:
        raise NotYourMessage(message_id=message_id)
    return marked


async def mark_all_read(uow: NotifyUnitOfWork, *, principal: Principal, now: datetime) -> int:
    """Mark every unread message of the caller read; returns how many were unread."""
    return await uow.inbox.mark_all_read(principal.subject, now=now)
