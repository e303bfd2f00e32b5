"""Idempotency-Key: the first answer is stored with the request's fingerprint and given again after.

One flow for POST /v1/submissions and the web form: a repeat of a request with its key gets the first
receipt, the same key with another request is refused, and a concurrent repeat waits for the first to commit
(`IdempotencyKeys.claim`), so one key never creates two reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from intake.adapters.idempotency import StoredAnswer
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.errors import IdempotencyKeyReused
from intake.domain.models import Receipt
from intake.domain.submissions import request_fingerprint

CREATED = 201


@dataclass(frozen=True)
class Answer:
    """The receipt; for a repeated key, also the first answer exactly as it was stored (status and body)."""

    receipt: Receipt
    replay: StoredAnswer | None = None


async def once(
    uow: IntakeUnitOfWork,
    *,
    owner: str,
    key: str | None,
    request: dict[str, Any],
    run: Callable[[], Awaitable[Receipt]],
    expected: Receipt | None = None,
) -> Answer:
    """Run `run` once per owner's key (every time without a key): a repeat with the same request gets the first
    receipt, the same key with another request IdempotencyKeyReused. `expected`, the receipt `run` will give if it
    succeeds, is stored with the key's claim (one statement less); a different one is stored after. A `run` that
    fails rolls the caller's transaction back, and the claim with it."""
    if not key:
        return Answer(await run())
    fingerprint = request_fingerprint(request)
    ahead = (CREATED, expected.model_dump(mode="json")) if expected is not None else None
    stored = await uow.idempotency.claim(owner=owner, key=key, fingerprint=fingerprint, answer=ahead)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        return Answer(Receipt.model_validate(stored.body), stored)
    receipt = await run()
    if receipt == expected:
        return Answer(receipt)
    await uow.idempotency.remember(owner=owner, key=key, status_code=CREATED, body=receipt.model_dump(mode="json"))
    return Answer(receipt)
