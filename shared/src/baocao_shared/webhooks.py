"""Signed webhooks (Standard Webhooks, standardwebhooks.com): how notify signs, and how a receiver verifies.

Each request carries three headers:
- `webhook-id`: the delivery's id, the same on every retry, so a receiver acts on it once;
- `webhook-timestamp`: unix seconds of this attempt;
- `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, space-separated
  when several secrets are in use during a rotation.

A secret is "whsec_" + base64 of 24 to 64 random bytes (`new_secret()` makes one). The HMAC is
the `standardwebhooks` package's own. Its `verify` reads the wall clock and has no memory of past
messages, so `WebhookVerifier` adds the checks around it: an injectable clock, a tolerance and a
replay guard.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from standardwebhooks.webhooks import Webhook

from baocao_shared.clock import Clock, SystemClock

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = timedelta(minutes=5)
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class InvalidSecret(Exception):
    """A signing secret that is not "whsec_" + base64 of 24 to 64 bytes. The message never shows it.

    Not a ValueError: pydantic would turn that into a validation error that echoes the secret.
    """


def new_secret() -> str:
    """A fresh signing secret, to give to one receiver."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signer(secret: str) -> Webhook:
    """The package's signer for a "whsec_<base64>" secret; raises InvalidSecret when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a webhook signing secret starts with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX) :].strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError:  # binascii.Error is one
        raise InvalidSecret(f"a webhook signing secret is {SECRET_PREFIX!r} followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise InvalidSecret(f"a webhook signing secret holds 24 to 64 bytes, not {len(key)}")
    return Webhook(key)


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC>` of one message."""
    at = datetime.fromtimestamp(timestamp, UTC)
    return signer(secret).sign(msg_id=msg_id, timestamp=at, data=body.decode("utf-8"))


def signed_headers(secret: str, *, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, sent at `at`."""
    timestamp = int(at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


class WebhookRefused(Exception):
    """A webhook request not to act on; the subclass says why."""


class MissingHeader(WebhookRefused):
    """A Standard Webhooks header is missing or unreadable."""


class BadSignature(WebhookRefused):
    """No signature matches the body, id and timestamp: tampered, or signed with another secret."""


class TooOld(WebhookRefused):
    """The timestamp is further in the past than the tolerance."""


class TooNew(WebhookRefused):
    """The timestamp is further in the future than the tolerance."""


class Replayed(WebhookRefused):
    """This very message (id and timestamp) was already accepted: a copy sent again."""


class SeenMessages(Protocol):
    """Where a verifier remembers the messages it accepted (in memory, a database, a cache ...)."""

    def first_time(self, key: str, *, now: datetime, until: datetime) -> bool:
        """Remember `key` until `until`; False when it is already remembered and not yet expired."""
        ...


class MemorySeenMessages:
    """At most `max_entries` messages in this process's memory; past that, the oldest are forgotten."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._until: dict[str, datetime] = {}
        self._lock = threading.Lock()  # receivers may verify from several threads

    def first_time(self, key: str, *, now: datetime, until: datetime) -> bool:
        with self._lock:
            known = self._until.get(key)
            if known is not None and known > now:
                return False
            if len(self._until) >= self._max:
                self._forget(now)
            self._until[key] = until
            return True

    def _forget(self, now: datetime) -> None:
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]
        while len(self._until) >= self._max:  # still full: drop in the order they came
            del self._until[next(iter(self._until))]


class WebhookVerifier:
    """Checks one signed request; `verify` returns its JSON body or raises a WebhookRefused.

    The replay guard refuses a copy of a message already accepted: the same id with the same
    timestamp (so the same signature). A retry by the sender has the same id but a new timestamp
    and passes, because the receiver may have failed after verifying; acting once per
    `webhook-id` is the receiver's own business.
    """

    def __init__(
        self,
        secret: str,
        *,
        tolerance: timedelta = DEFAULT_TOLERANCE,
        seen: SeenMessages | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._signer = signer(secret)
        self._tolerance = tolerance
        self._seen = seen if seen is not None else MemorySeenMessages()
        self._clock = clock or SystemClock()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Any:
        msg_id, timestamp, signatures = _read_headers(headers)
        self._check_signature(body, msg_id, timestamp, signatures)
        at = datetime.fromtimestamp(timestamp, UTC)
        now = self._clock.now()
        if at < now - self._tolerance:
            raise TooOld(f"webhook {msg_id} is from {at.isoformat()}, more than {self._tolerance} ago")
        if at > now + self._tolerance:
            raise TooNew(f"webhook {msg_id} is from {at.isoformat()}, more than {self._tolerance} ahead")
        # Remembered as long as the timestamp check would let a copy through.
        if not self._seen.first_time(f"{msg_id}.{timestamp}", now=now, until=at + self._tolerance):
            raise Replayed(f"webhook {msg_id} at {timestamp} was already received")
        return json.loads(body)

    def _check_signature(self, body: bytes, msg_id: str, timestamp: int, signatures: list[bytes]) -> None:
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadSignature("the body is not UTF-8, so it is not what was signed") from None
        signed = self._signer.sign(msg_id=msg_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=data)
        expected = base64.b64decode(signed.partition(",")[2])
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise BadSignature(f"no webhook-signature of {msg_id} matches its body and timestamp")


def _read_headers(headers: Mapping[str, str]) -> tuple[str, int, list[bytes]]:
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in HEADERS if not lowered.get(name)]
    if missing:
        raise MissingHeader(f"missing header {', '.join(missing)}")
    try:
        timestamp = int(lowered["webhook-timestamp"])
    except ValueError:
        raise MissingHeader("webhook-timestamp is not unix seconds") from None
    signatures = []
    for versioned in lowered["webhook-signature"].split():
        version, _, encoded = versioned.partition(",")
        if version != "v1":
            continue  # other schemes (v1a: asymmetric) are not ours
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except ValueError:
            continue
    if not signatures:
        raise BadSignature("webhook-signature holds no v1 signature")
    return lowered["webhook-id"], timestamp, signatures
