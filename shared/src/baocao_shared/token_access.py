"""Access that ends when it should: each service's copy of when an account's tokens are good from.

intake publishes `vn.baocao.account.access_changed.v1` (baocao.catalog, key `account:<username>`) when an account is
deactivated or reactivated or its password changes. Every service keeps the latest per account in its own
`account_access` table (intake writes its own in the use case's transaction; the others from the event, with
`record_access_changed`), and every process holds the table in memory (`TokenAccess`), reloading the rows that
changed every `token_access_poll_interval_s`: checking a token costs a dict lookup, and a change reaches every
instance of every service, whichever instance consumed the event.

`JwtVerifier.checking(token_access)` refuses (401 `token_revoked`) a token whose `iat` is before the account's
`not_before`, and every token of an inactive account. `iat` carries microseconds (intake signs it as a float), so
a token issued just after a password change, in the same second, still works.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Boolean, Column, DateTime, Index, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from baocao_shared.errors import Unauthorized
from baocao_shared.events.catalog import AccountAccessV1

log = structlog.get_logger(__name__)

# A row committed late carries a changed_at a little in the past (clock_timestamp() at its statement, not at its
# commit); each reload looks this far back from the newest row it has seen, so such a row is not missed.
RELOAD_OVERLAP = timedelta(seconds=60)


def account_access_table(metadata: MetaData) -> Table:
    """`account_access`: per account, whether it is active and from when its tokens are good."""
    return Table(
        "account_access",
        metadata,
        Column("username", String(80), primary_key=True),
        Column("active", Boolean, nullable=False),
        Column("not_before", DateTime(timezone=True), nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
        Index("ix_account_access_changed_at", "changed_at"),
    )


_T = account_access_table(MetaData())  # the statements below name only the table and its columns


class TokenRevoked(Unauthorized):
    """The token was issued before its account's last deactivation or password change, or the account is
    inactive: sign in again (if the account may)."""

    code = "token_revoked"


@dataclass(frozen=True)
class Access:
    active: bool
    not_before: datetime


def refusal(access: Access | None, *, issued_at: float) -> str | None:
    """Why a token issued at `issued_at` (seconds since the epoch, as `iat`) is refused, or None."""
    if access is None:
        return None
    if not access.active:
        return "The account is deactivated."
    if issued_at < access.not_before.timestamp():
        return "The token was issued before the account's password changed or it was deactivated; sign in again."
    return None


class AccountAccessRepository:
    """The SQL of `account_access`."""

    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        self.session = session

    async def get(self, username: str) -> Access | None:
        row = (
            await self.session.execute(select(_T.c.active, _T.c.not_before).where(_T.c.username == username))
        ).first()
        return Access(row.active, row.not_before) if row else None

    async def put(self, access: AccountAccessV1) -> None:
        values = {"active": access.active, "not_before": access.not_before, "changed_at": func.clock_timestamp()}
        await self.session.execute(
            insert(_T)
            .values(username=access.username, **values)
            .on_conflict_do_update(index_elements=["username"], set_=values)
        )

    async def changed_since(self, since: datetime | None) -> list[Any]:
        query = select(_T.c.username, _T.c.active, _T.c.not_before, _T.c.changed_at)
        if since is not None:
            query = query.where(_T.c.changed_at > since)
        return list(await self.session.execute(query))


async def record_access_changed(session: AsyncSession, data: AccountAccessV1) -> None:
    """Keep the account's latest access: the use case of `account.access_changed` in deadlines, consolidation and
    notify (`typed_handler(record_access_changed)`, on the consumer's session and transaction)."""
    await AccountAccessRepository(session).put(data)


class TokenAccess:
    """The process's copy of `account_access`: `refusal_for` is a dict lookup; `reload` reads the rows changed since
    the newest it saw (less `RELOAD_OVERLAP`)."""

    def __init__(self, rows: Iterable[tuple[str, Access]] = ()) -> None:
        self._accounts: dict[str, Access] = dict(rows)
        self._newest: datetime | None = None

    def refusal_for(self, subject: str, *, issued_at: float) -> str | None:
        return refusal(self._accounts.get(subject), issued_at=issued_at)

    def apply(self, username: str, access: Access) -> None:
        self._accounts[username] = access

    async def reload(self, engine: AsyncEngine) -> int:
        """Read the rows changed since the last reload; how many were read."""
        since = None if self._newest is None else self._newest - RELOAD_OVERLAP
        async with engine.connect() as conn:
            rows = await AccountAccessRepository(conn).changed_since(since)
        for row in rows:
            self._accounts[row.username] = Access(row.active, row.not_before)
            if self._newest is None or row.changed_at > self._newest:
                self._newest = row.changed_at
        return len(rows)
