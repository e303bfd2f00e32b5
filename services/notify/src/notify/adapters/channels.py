"""The channels a delivery goes out on: email over SMTP, the in-app inbox, and webhooks (adapters/webhook.py)."""

from __future__ import annotations

from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

from notify.adapters.uow import NotifyUnitOfWork
from notify.adapters.webhook import WebhookChannel
from notify.config import Settings
from notify.domain.delivery import Delivery
from notify.domain.documents import Document
from notify.domain.errors import DocumentNotKept


class Channel(Protocol):
    async def send(self, uow: NotifyUnitOfWork, delivery: Delivery) -> None:
        """Deliver one delivery; raise when it did not go out."""


class EmailChannel:
    """Hands each message to the configured SMTP server: plain text with an HTML alternative, and the signed
    document the delivery carries as an attachment (multipart/mixed).

    The message is built with the compat32 classes: `Header` splits a long Vietnamese subject into
    encoded words that keep their spaces, where Python 3.11's default policy (EmailMessage) folds
    "gửi báo cáo" into "gửibáo cáo" for every mail reader.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def compose(self, delivery: Delivery, attachment: Document | None = None) -> MIMEMultipart:
        body = MIMEMultipart("alternative")
        body.attach(MIMEText(delivery.body_text, "plain", "utf-8"))
        if delivery.body_html:
            body.attach(MIMEText(delivery.body_html, "html", "utf-8"))
        mail = body
        if attachment is not None:
            mail = MIMEMultipart("mixed")
            mail.attach(body)
            mail.attach(attached(attachment))
        mail["From"] = self._settings.smtp_from
        mail["To"] = delivery.recipient
        mail["Subject"] = Header(delivery.subject, "utf-8")
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{delivery.id}@baocao.notify>"  # the same delivery keeps one id on retry
        return mail

    async def send(self, uow: NotifyUnitOfWork, delivery: Delivery) -> None:
        s = self._settings
        attachment = None
        if delivery.document_sha256:
            attachment = await uow.documents.get(delivery.document_sha256)
            if attachment is None:  # the table's foreign key keeps it; never sent without it all the same
                raise DocumentNotKept(sha256=delivery.document_sha256)
        await aiosmtplib.send(
            self.compose(delivery, attachment),
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=s.smtp_timeout_s,
        )


def attached(document: Document) -> MIMEBase:
    """The document as a mail's attachment (base64), under its file name (RFC 2231 when it is not ASCII)."""
    maintype, _, subtype = document.media_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(document.content)
    encoders.encode_base64(part)
    name = document.filename if document.filename.isascii() else ("utf-8", "", document.filename)
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


class InboxChannel:
    """Stores the message in the recipient account's in-app inbox, in the sender's transaction."""

    async def send(self, uow: NotifyUnitOfWork, delivery: Delivery) -> None:
        await uow.inbox.receive(delivery)


def channels_for(settings: Settings) -> dict[str, Channel]:
    return {"email": EmailChannel(settings), "inbox": InboxChannel(), "webhook": WebhookChannel(settings)}
