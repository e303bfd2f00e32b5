"""Use cases of accounts (tài khoản): sign in, create accounts, set passwords, seed the demo accounts.

The caller owns the transaction: these functions never commit. Security instants (token expiry,
the login window, audit of credentials) come from `Authenticator.clock`, the wall clock, never the
simulated business clock. Passwords are hashed with argon2, slow on purpose. A unit's API tokens
are in `handlers/api_tokens.py`.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.auth import JwtVerifier
from baocao_shared.clock import Clock, SystemClock
from baocao_shared.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from baocao_shared.principal import Principal, Role
from intake.adapters import orm
from intake.adapters.keys import SigningKey, load_signing_key
from intake.config import Settings
from intake.domain.accounts import (
    LoginPolicy,
    account_problems,
    client_gate,
    demo_accounts,
    login_gate,
    password_problem,
)

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~0.1 s on a 2-core machine, where
# argon2-cffi's default (64 MiB, 4 lanes) takes ~0.8 s and turns sign-in bursts into a DoS.
# Changing these rehashes each account at its next sign-in.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass
class Authenticator:
    """What signing in needs besides the database: the key, the token lifetime and the lockout rule."""

    signing_key: SigningKey
    token_ttl: timedelta
    policy: LoginPolicy
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.verifier = JwtVerifier.from_jwks(self.signing_key.jwks())  # intake checks its own tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(
            signing_key=load_signing_key(settings),
            token_ttl=timedelta(seconds=settings.token_ttl_s),
            policy=LoginPolicy(
                settings.login_max_failures,
                timedelta(seconds=settings.login_window_s),
                client_max_failures=settings.login_client_max_failures,
            ),
        )

    def issue(self, principal: Principal) -> IssuedToken:
        token = self.signing_key.sign(principal, now=self.clock.now(), ttl=self.token_ttl)
        return IssuedToken(token, int(self.token_ttl.total_seconds()), principal)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    principal: Principal


# ----------------------------------------------------------------------------- passwords


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(PASSWORD_HASHER.hash, password)


async def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(PASSWORD_HASHER.verify, stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so both answers take about as long."""
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


async def authenticate(
    session: AsyncSession, auth: Authenticator, *, username: str, password: str, client: str
) -> IssuedToken | Unauthorized | TooManyRequests:
    """A token for the right password; the refusal otherwise (returned, so the caller commits the failure).

    Refused with 429 before any password is checked while the client address (`client`) or the username
    has too many recent failures; a locked username answers alike whether or not its account exists.
    """
    now, f = auth.clock.now(), orm.login_failures.c
    key, client = username[:80], client[:100]  # a longer name matches no account, but its guesses still count
    since = now - auth.policy.window
    # Instances take turns per client, then per username (always in this order), so N parallel guesses
    # cannot all slip under either limit.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("login-client:" + client))))
    gate = client_gate(
        list(await session.scalars(select(f.at).where(f.client == client, f.at > since))), now=now, policy=auth.policy
    )
    if not gate.allowed:
        return TooManyRequests(
            "Too many failed sign-ins from this address; wait and try again.",
            retry_after_s=gate.retry_after_s,
            details={"limit": "client"},
        )
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("login:" + key))))
    failures = await session.scalars(select(f.at).where(f.username == key, f.at > since))
    gate = login_gate(list(failures), now=now, policy=auth.policy)
    if not gate.allowed:
        return TooManyRequests(
            "Too many failed sign-ins for this account; wait and try again.",
            retry_after_s=gate.retry_after_s,
            details={"limit": "account"},
        )

    account = (await session.execute(select(orm.accounts).where(orm.accounts.c.username == username))).first()
    stored_hash = account.password_hash if account else await asyncio.to_thread(_dummy_hash)
    if not (await _password_matches(stored_hash, password) and account and account.active):
        await session.execute(orm.login_failures.insert().values(username=key, client=client, at=now))
        await session.execute(
            delete(orm.login_failures).where(or_(f.username == key, f.client == client), f.at <= since)
        )
        return Unauthorized("Wrong username or password.")

    await session.execute(delete(orm.login_failures).where(f.username == key))
    if PASSWORD_HASHER.check_needs_rehash(account.password_hash):
        await _store_password(session, username, await hash_password(password))
    return auth.issue(
        Principal(subject=username, role=Role(account.role), province=account.province, unit=account.unit)
    )


async def _store_password(session: AsyncSession, username: str, password_hash: str) -> bool:
    a = orm.accounts.c
    done = await session.scalar(
        update(orm.accounts).where(a.username == username).values(password_hash=password_hash).returning(a.username)
    )
    return done is not None


# ----------------------------------------------------------------------------- accounts


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    province: str | None,
    unit: str | None,
    actor: str,
    now: datetime,
) -> dict:
    """A new account; 422 when role, province and unit do not fit the catalogue, 409 when taken."""
    problems = account_problems(username=username, role=role, province=province, unit=unit, password=password)
    problems += await _catalogue_problems(session, province, unit)
    if problems:
        raise Unprocessable("The account is not valid.", problems)
    row = await session.execute(
        insert(orm.accounts)
        .values(username=username, password_hash=await hash_password(password), role=role, province=province, unit=unit)
        .on_conflict_do_nothing(index_elements=["username"])
        .returning(
            orm.accounts.c.username,
            orm.accounts.c.role,
            orm.accounts.c.province,
            orm.accounts.c.unit,
            orm.accounts.c.active,
            orm.accounts.c.created_at,
        )
    )
    created = row.first()
    if created is None:
        raise Conflict(f"The username {username} is taken.")
    await record_audit(
        session,
        actor=actor,
        action="account.created",
        subject=f"account:{username}",
        details={"role": role, "province": province, "unit": unit},
        at=now,
    )
    return dict(created._mapping)


async def _catalogue_problems(session: AsyncSession, province: str | None, unit: str | None) -> list[dict[str, str]]:
    if unit is not None and province is not None:
        u = orm.units.c
        if await session.scalar(select(u.code).where(u.province == province, u.code == unit)) is None:
            return [{"field": "unit", "message": f"province {province} has no unit {unit}"}]
    elif province is not None:
        if await session.scalar(select(orm.provinces.c.code).where(orm.provinces.c.code == province)) is None:
            return [{"field": "province", "message": f"no province {province}"}]
    return []


async def set_password(session: AsyncSession, *, username: str, password: str, actor: str, now: datetime) -> None:
    """Replace an account's password and lift its lockout."""
    if why := password_problem(password):
        raise Unprocessable("The password is not valid.", [{"field": "password", "message": why}])
    if not await _store_password(session, username, await hash_password(password)):
        raise NotFound(f"No account {username}.")
    await session.execute(delete(orm.login_failures).where(orm.login_failures.c.username == username))
    await record_audit(
        session, actor=actor, action="account.password_set", subject=f"account:{username}", details={}, at=now
    )


async def seed_demo_accounts(
    session: AsyncSession, *, password: str, env: str, actor: str = "system", now: datetime | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """Create the demo accounts for the catalogue as stored; returns those created (existing ones stay as they are).

    The caller commits. Refused when env is production.
    """
    if env == "production":
        raise Forbidden("Demo accounts are refused when BAOCAO_ENV=production.")
    provinces = await session.scalars(
        select(orm.provinces.c.code).where(orm.provinces.c.doc["active"].astext.is_distinct_from("false"))
    )
    units = await session.execute(select(orm.units.c.province, orm.units.c.code).where(orm.units.c.active))
    wanted = demo_accounts(list(provinces), [tuple(row) for row in units])
    # One hash for every demo account: they share a published password anyway, and thousands of
    # synthetic units would otherwise take minutes of argon2.
    shared_hash = await hash_password(password)
    rows = [
        {
            "username": a.username,
            "role": a.role.value,
            "province": a.province,
            "unit": a.unit,
            "password_hash": shared_hash,
        }
        for a in wanted
    ]
    created: set[str] = set()
    for start in range(0, len(rows), 1000):  # PostgreSQL takes at most 32767 parameters per statement
        created |= set(
            await session.scalars(
                insert(orm.accounts)
                .values(rows[start : start + 1000])
                .on_conflict_do_nothing(index_elements=["username"])
                .returning(orm.accounts.c.username)
            )
        )
    result = [a.as_tuple() for a in wanted if a.username in created]
    if result:
        await record_audit(
            session,
            actor=actor,
            action="account.demo_seeded",
            subject="accounts:demo",
            details={"created": len(result)},
            at=now or SystemClock().now(),
        )
    return result


async def record_audit(
    session: AsyncSession, *, actor: str, action: str, subject: str, details: dict, at: datetime
) -> None:
    await session.execute(
        orm.audit_log.insert().values(at=at, actor=actor, action=action, subject=subject, details=details)
    )
