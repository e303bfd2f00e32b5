"""A delivery: one message to one recipient on one channel, caused by one event (pure, no I/O).

The consumer records it pending (`NewDelivery`); the sender sends and settles it (sent | failed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Channel = Literal["email", "webhook", "inbox"]
DeliveryStatus = Literal["pending", "sent", "failed"]  # pending until sent, or failed after its last attempt

CHANNELS: tuple[str, ...] = get_args(Channel)
STATUSES: tuple[str, ...] = get_args(DeliveryStatus)


@dataclass(frozen=True)
class NewDelivery:
    """A delivery as a notice records it: pending, with no attempt yet (the database stamps its times)."""

    id: uuid.UUID
    cause_event_id: uuid.UUID
    cause_type: str
    province: str
    plan_id: str | None
    period: str | None
    unit: str | None
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    # Whom the recipient is, as the log names it (a line of Nơi nhận, a unit, the staff office).
    recipient_label: str | None = field(default=None, kw_only=True)
    # The signed document it carries: attached to a mail; named, with the report's link, elsewhere.
    document_sha256: str | None = field(default=None, kw_only=True)
    document_filename: str | None = field(default=None, kw_only=True)

    @property
    def once_key(self) -> tuple[uuid.UUID, str, str]:
        """What makes a delivery once: one event, one recipient, one channel."""
        return (self.cause_event_id, self.recipient, self.channel)


@dataclass(frozen=True)
class Delivery(NewDelivery):
    """A stored delivery: what was recorded, and how sending it goes (the API, the pages and the sender read it)."""

    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Filters:
    """Which deliveries of one province to read; None (or empty) means any."""

    province: str
    period: str | None = None
    status: str | None = None
    channel: str | None = None
    unit: str | None = None
