"""Idempotency-Key: the first answer is stored with the request's fingerprint and replayed after.

`claim` inserts the key in the caller's transaction. A concurrent request with the same key waits
on the row until the first commits, then sees its answer: one key never creates two reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import Conflict
from intake.adapters import orm


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


_CLAIM = insert(orm.idempotency_keys).on_conflict_do_nothing().returning(orm.idempotency_keys.c.key)


async def claim(session: AsyncSession, *, owner: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """None when the key is new (and now taken); the stored answer when it was used with this body."""
    k = orm.idempotency_keys.c
    taken = await session.scalar(_CLAIM, {"owner": owner, "key": key, "request_hash": fingerprint})
    if taken is not None:
        return None
    row = (
        await session.execute(select(k.request_hash, k.status_code, k.response).where(k.owner == owner, k.key == key))
    ).one()
    if row.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body; use a new key.",
            {"idempotency_key": key},
        )
    return StoredAnswer(status_code=row.status_code, body=row.response)


async def remember(session: AsyncSession, *, owner: str, key: str, status_code: int, body: Any) -> None:
    k = orm.idempotency_keys.c
    await session.execute(
        orm.idempotency_keys.update()
        .where(k.owner == owner, k.key == key)
        .values(status_code=status_code, response=body)
    )
