"""What notify's rebuild restores from its own topic, baocao.notifications: how each delivery went.

Replaying the notices makes each delivery again, pending, under a new id; `notification.sent` / `.failed` (one
per outcome, keyed by the delivery's (event, recipient, channel), which makes a delivery once) give it back its
id, its status, attempts, reason and the instant it was sent, so the sender finds nothing of it to send. A sent
in-app delivery is its message in the recipient's inbox, put back unread (the reading is not on any topic).
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.envelope import CloudEvent
from baocao_shared.events.notifications import NOTIFICATION_FAILED, NOTIFICATION_SENT
from baocao_shared.events.registry import parse_data
from notify.adapters import orm

# Everything the topics restore. Not derived, so kept: the outbox (the events sent) and the dead-letter replay log.
DERIVED = (
    "provinces", "units", "plans", "documents", "deliveries", "waiting_notices", "inbox_messages",
    "account_access", "inbox",
)  # fmt: skip

d = orm.deliveries.c


async def settled(session: AsyncSession, event: CloudEvent) -> None:
    """A delivery's outcome, in the topic's order: the last one stands (a resent delivery's second outcome)."""
    data = parse_data(event)
    sent = event.type == NOTIFICATION_SENT.type
    values = {"id": data.delivery_id, "status": "sent" if sent else "failed", "attempts": data.attempts}
    values |= {"last_error": data.reason} | ({"sent_at": data.at} if sent else {})
    once = (d.cause_event_id == data.cause_event_id, d.recipient == data.recipient, d.channel == data.channel)
    found = await session.execute(
        update(orm.deliveries).where(*once).values(**values).returning(d.subject, d.body_text)
    )
    row = found.first()
    if row is not None and sent and data.channel == "inbox":
        await session.execute(
            insert(orm.inbox_messages)
            .values(
                id=uuid.uuid4(),
                delivery_id=data.delivery_id,
                recipient=data.recipient,
                title=row.subject,
                body=row.body_text,
                created_at=data.at,
            )
            .on_conflict_do_nothing(index_elements=["delivery_id"])
        )


SETTLED = {NOTIFICATION_SENT.type: settled, NOTIFICATION_FAILED.type: settled}
