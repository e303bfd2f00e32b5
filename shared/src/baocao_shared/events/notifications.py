"""Events on baocao.notifications: a delivery (email, webhook, in-app) was sent or finally failed.

notify owns these; the record key is `<province>`. One delivery is one message to one recipient on
one channel, caused by one event (a reminder, an escalation, a published report ...).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.registry import events_on, province_key


class DeliveryV1(BaseModel):
    """The outcome of one delivery."""

    delivery_id: uuid.UUID
    cause_event_id: uuid.UUID = Field(description="The event that caused the message")
    cause_type: str
    province: str
    unit: str | None = None
    period: str | None = None
    channel: str = Field(description="email | webhook | inbox")
    recipient: str
    attempts: int = Field(ge=1)
    at: datetime
    reason: str | None = Field(None, description="For a failed delivery: the last error")


def _subject(e) -> str:
    return f"{e.province}/{e.channel}/{e.delivery_id}"


delivery_event = events_on(topics.NOTIFICATIONS, key=province_key, subject=_subject)
NOTIFICATION_SENT = delivery_event(
    "vn.baocao.notification.sent.v1",
    DeliveryV1,
    "A message reached its channel (the SMTP server accepted it, the inbox stored it).",
)
NOTIFICATION_FAILED = delivery_event(
    "vn.baocao.notification.failed.v1",
    DeliveryV1,
    "A message could not be delivered after every attempt; `reason` says why.",
)
