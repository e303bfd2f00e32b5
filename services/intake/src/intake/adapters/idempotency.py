"""The SQL of Idempotency-Keys: each owner's keys with the fingerprint of their request and the answer given.

`claim` inserts the key in the caller's transaction, with the answer when the caller knows it ahead (one statement
for a first report); `remember` stores it after otherwise. A concurrent request with the same key waits on the row
until the first commits, then reads its answer: one key never creates two reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import orm

_K = orm.idempotency_keys.c
_CLAIM = insert(orm.idempotency_keys).on_conflict_do_nothing().returning(_K.key)


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer given for a key, with the fingerprint of the request it answered."""

    fingerprint: str
    status_code: int
    body: Any


class IdempotencyKeys:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, *, owner: str, key: str, fingerprint: str, answer: tuple[int, Any] | None = None
    ) -> StoredAnswer | None:
        """None when the key is new (and now taken, with `answer`, (status, body), stored if given: the caller's
        transaction rolls back if it does not give that answer); else what it was first used for and answered."""
        row = {"owner": owner, "key": key, "request_hash": fingerprint}
        if answer is not None:
            row |= {"status_code": answer[0], "response": answer[1]}
        taken = await self.session.scalar(_CLAIM, row)
        if taken is not None:
            return None
        row = (
            await self.session.execute(
                select(_K.request_hash, _K.status_code, _K.response).where(_K.owner == owner, _K.key == key)
            )
        ).one()
        return StoredAnswer(row.request_hash, row.status_code, row.response)

    async def remember(self, *, owner: str, key: str, status_code: int, body: Any) -> None:
        await self.session.execute(
            orm.idempotency_keys.update()
            .where(_K.owner == owner, _K.key == key)
            .values(status_code=status_code, response=body)
        )
