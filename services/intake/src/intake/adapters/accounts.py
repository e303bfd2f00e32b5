"""The SQL of accounts and of failed sign-ins (`accounts`, `login_failures`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import orm

_A, _F = orm.accounts.c, orm.login_failures.c
DEADLOCK_DETECTED = "40P01"
ROWS_PER_INSERT = 1000  # PostgreSQL takes at most 32767 parameters per statement


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, username: str, *, for_share: bool = False) -> Any | None:
        """The account's row (username, password_hash, role, province, unit, active, created_at), if any; with
        `for_share`, locked against a change of it (a new password) until the transaction ends."""
        query = select(orm.accounts).where(_A.username == username)
        return (await self.session.execute(query.with_for_update(read=True) if for_share else query)).first()

    async def add(
        self, *, username: str, password_hash: str, role: str, province: str | None, unit: str | None
    ) -> dict | None:
        """The new account (without its hash); None when the username is taken."""
        row = await self.session.execute(
            insert(orm.accounts)
            .values(username=username, password_hash=password_hash, role=role, province=province, unit=unit)
            .on_conflict_do_nothing(index_elements=["username"])
            .returning(_A.username, _A.role, _A.province, _A.unit, _A.active, _A.created_at)
        )
        created = row.first()
        return dict(created._mapping) if created else None

    async def add_missing(self, rows: list[dict[str, Any]]) -> set[str]:
        """Add the accounts whose username is free; the usernames added."""
        created: set[str] = set()
        for start in range(0, len(rows), ROWS_PER_INSERT):
            created |= set(
                await self.session.scalars(
                    insert(orm.accounts)
                    .values(rows[start : start + ROWS_PER_INSERT])
                    .on_conflict_do_nothing(index_elements=["username"])
                    .returning(_A.username)
                )
            )
        return created

    async def set_password_hash(self, username: str, password_hash: str) -> bool:
        """False when there is no such account."""
        done = await self.session.scalar(
            update(orm.accounts)
            .where(_A.username == username)
            .values(password_hash=password_hash)
            .returning(_A.username)
        )
        return done is not None

    async def upgrade_hash(self, username: str, password_hash: str) -> bool:
        """A sign-in's rehash of the password it just checked (new hashing parameters). Every sign-in holds the
        account's row for share (`get(for_share=True)`), so two at once each wait for the other's: PostgreSQL
        ends one of them (deadlock_detected), which then keeps the old hash and signs in all the same; the next
        sign-in upgrades it. False when not done."""
        try:
            async with self.session.begin_nested():
                return await self.set_password_hash(username, password_hash)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            return False

    async def set_active(self, username: str, active: bool) -> bool:
        """False when there is no such account."""
        done = await self.session.scalar(
            update(orm.accounts).where(_A.username == username).values(active=active).returning(_A.username)
        )
        return done is not None


class LoginFailures:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take_turn(self, name: str) -> None:
        """Wait for the other transactions counting failures under `name`, until this one ends."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))

    async def of_client(self, client: str, *, since: datetime) -> list[datetime]:
        return list(await self.session.scalars(select(_F.at).where(_F.client == client, _F.at > since)))

    async def of_pair(self, username: str, client: str, *, since: datetime) -> list[datetime]:
        """The failures of this username from this client address."""
        query = select(_F.at).where(_F.username == username, _F.client == client, _F.at > since)
        return list(await self.session.scalars(query))

    async def add(self, *, username: str, client: str, at: datetime, forget_before: datetime) -> None:
        """Count a failure, and forget this username's and client's failures that left the window."""
        await self.session.execute(orm.login_failures.insert().values(username=username, client=client, at=at))
        await self.session.execute(
            delete(orm.login_failures).where(or_(_F.username == username, _F.client == client), _F.at <= forget_before)
        )

    async def forget(self, username: str, *, client: str | None = None) -> None:
        """Clear this username's failures: from one client address, or (`client` None) from all."""
        where = [_F.username == username] + ([_F.client == client] if client is not None else [])
        await self.session.execute(delete(orm.login_failures).where(*where))
