"""The channels a delivery goes out on: email over SMTP, the in-app inbox, and webhooks (adapters/webhook.py)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import orm
from notify.adapters.webhook import WebhookChannel
from notify.config import Settings


class Channel(Protocol):
    async def send(self, session: AsyncSession, delivery: Any) -> None:
        """Deliver one `deliveries` row; raise when it did not go out."""


class EmailChannel:
    """Hands each message to the configured SMTP server (plain text with an HTML alternative)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, session: AsyncSession, delivery: Any) -> None:
        s = self._settings
        mail = EmailMessage()
        mail["From"] = s.smtp_from
        mail["To"] = delivery.recipient
        mail["Subject"] = delivery.subject
        mail["Message-ID"] = f"<{delivery.id}@baocao.notify>"  # the same delivery keeps one id on retry
        mail.set_content(delivery.body_text)
        if delivery.body_html:
            mail.add_alternative(delivery.body_html, subtype="html")
        await aiosmtplib.send(
            mail,
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password,
            timeout=s.smtp_timeout_s,
        )


class InboxChannel:
    """Stores the message in the recipient account's in-app inbox, in the sender's transaction."""

    async def send(self, session: AsyncSession, delivery: Any) -> None:
        await session.execute(
            orm.inbox_messages.insert().values(
                id=uuid.uuid4(),
                delivery_id=delivery.id,
                recipient=delivery.recipient,
                title=delivery.subject,
                body=delivery.body_text,
            )
        )


def channels_for(settings: Settings) -> dict[str, Channel]:
    return {"email": EmailChannel(settings), "inbox": InboxChannel(), "webhook": WebhookChannel(settings)}
