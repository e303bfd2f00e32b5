"""The webhook channel: a JSON POST to the contact's URL, signed per Standard Webhooks.

The document is built at send time from the `deliveries` row, so a retry sends the same body
under the same `webhook-id` (the delivery id), with this attempt's timestamp and signature.
The signing secret comes from the settings, chosen by URL; it never travels in the catalogue or on
Kafka. Anything but a 2xx answer raises, and the sender retries and finally fails the delivery
with that reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from baocao_shared.clock import Clock, SystemClock
from baocao_shared.webhooks import signed_headers
from notify.adapters.uow import NotifyUnitOfWork
from notify.config import Settings
from notify.domain.delivery import Delivery

USER_AGENT = "Baocao-notify/1 (+Standard Webhooks)"


class WebhookNotDelivered(Exception):
    """The receiver did not take the message; the text says why, for the delivery's `last_error`."""


def secret_for(url: str, *, default: SecretStr | None, by_prefix: Mapping[str, SecretStr]) -> str | None:
    """The secret that signs messages to `url`: the longest matching prefix's, else the default.

    A prefix matches on a boundary: "https://hooks.example.vn" serves "https://hooks.example.vn/a"
    but not "https://hooks.example.vn.other.com/".
    """
    matching = [prefix for prefix in by_prefix if _under(url, prefix)]
    if matching:
        return by_prefix[max(matching, key=len)].get_secret_value()
    return default.get_secret_value() if default is not None else None


def _under(url: str, prefix: str) -> bool:
    if not url.startswith(prefix):
        return False
    rest = url[len(prefix) :]
    return not rest or prefix.endswith("/") or rest[0] in "/?#"


def document(delivery: Delivery) -> dict[str, Any]:
    """What the receiver gets: the message and what it is about.

    `occurred_at` is when notify recorded the message (the causing event's own time is not kept). A published
    report's also names its signed PDF (`document`: file name and SHA-256); the text links to the report.
    """
    carried = {"filename": delivery.document_filename, "sha256": delivery.document_sha256}
    return {
        "id": str(delivery.id),
        "type": delivery.cause_type,
        "cause_event_id": str(delivery.cause_event_id),
        "province": delivery.province,
        "plan_id": delivery.plan_id,
        "period": delivery.period,
        "unit": delivery.unit,
        "subject": delivery.subject,
        "text": delivery.body_text,
        "occurred_at": delivery.created_at.isoformat(),
        **({"document": carried} if delivery.document_sha256 else {}),
    }


class WebhookChannel:
    """POSTs each message as JSON, without following redirects, within `webhook_timeout_s`."""

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None, clock: Clock | None = None
    ) -> None:
        self._settings = settings
        self._transport = transport
        # The receiver checks the timestamp against its own wall clock, never our simulated one.
        self._clock = clock or SystemClock()

    async def send(self, uow: NotifyUnitOfWork, delivery: Delivery) -> None:
        s = self._settings
        url = delivery.recipient
        _check_address(url)
        secret = secret_for(url, default=s.webhook_secret, by_prefix=s.webhook_secrets)
        if secret is None:
            raise WebhookNotDelivered(
                f"no webhook signing secret configured for {endpoint(url)}: set BAOCAO_WEBHOOK_SECRET"
            )
        body = json.dumps(document(delivery), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signed_headers(secret, msg_id=str(delivery.id), at=self._clock.now(), body=body),
        }
        try:
            # httpx's timeout bounds each read; this bounds the whole attempt (the row stays claimed).
            async with (
                asyncio.timeout(s.webhook_timeout_s),
                httpx.AsyncClient(
                    transport=self._transport, timeout=s.webhook_timeout_s, follow_redirects=False
                ) as client,
                client.stream("POST", url, content=body, headers=headers) as response,
            ):
                status = response.status_code  # the answer's body is not read
        except TimeoutError:
            raise WebhookNotDelivered(f"no answer within {s.webhook_timeout_s:g} s from {endpoint(url)}") from None
        except httpx.HTTPError as exc:
            detail = f": {exc}" if str(exc) else ""
            raise WebhookNotDelivered(f"{type(exc).__name__} from {endpoint(url)}{detail}") from exc
        if not 200 <= status < 300:
            raise WebhookNotDelivered(f"HTTP {status} from {endpoint(url)}")


def endpoint(url: str) -> str:
    """How an error names a webhook address: scheme and host only. Many receivers put their secret in the
    path (https://hooks.example/services/T0/B0/<secret>), and errors are logged and stored."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "an invalid address"
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}/…"


def _check_address(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookNotDelivered(f"a webhook address is an http(s) URL, not {url!r}")
