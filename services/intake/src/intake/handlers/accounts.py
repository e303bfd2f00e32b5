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

from baocao_shared.auth import JwtVerifier
from baocao_shared.clock import Clock, SystemClock
from baocao_shared.principal import Principal, Role
from intake.adapters.keys import SigningKey, load_signing_key
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings
from intake.domain.account_errors import (
    AccountInvalid,
    AccountNotFound,
    PasswordInvalid,
    RefusedInProduction,
    TooManyFailedSignIns,
    UsernameTaken,
    WrongCredentials,
)
from intake.domain.accounts import (
    LoginPolicy,
    account_problems,
    client_gate,
    demo_accounts,
    pair_gate,
    password_problem,
)
from intake.handlers.account_access import change_access

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~0.1 s on a 2-core machine, where
# argon2-cffi's default (64 MiB, 4 lanes) takes ~0.8 s and turns sign-in bursts into a DoS.
# Changing these rehashes each account at its next sign-in.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass
class Authenticator:
    """What signing in needs besides the database: the key, the token lifetime and the throttling rules."""

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
                free_failures=settings.login_free_failures,
                backoff_base=timedelta(seconds=settings.login_backoff_base_s),
                backoff_max=timedelta(seconds=settings.login_backoff_max_s),
                memory=timedelta(seconds=settings.login_memory_s),
                client_max_failures=settings.login_client_max_failures,
                client_window=timedelta(seconds=settings.login_client_window_s),
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
    uow: IntakeUnitOfWork, auth: Authenticator, *, username: str, password: str, client: str
) -> IssuedToken | WrongCredentials | TooManyFailedSignIns:
    """A token for the right password; the refusal otherwise (returned, so the caller commits the failure).

    Refused with 429 before any password is checked while the client address (`client`) has too many recent
    failures, or this username has from this address (`LoginPolicy`); a throttled username answers alike whether
    or not its account exists. Failures from one address never slow the same username at another.
    """
    now, failures, policy = auth.clock.now(), uow.login_failures, auth.policy
    key, client = username[:80], client[:100]  # a longer name matches no account, but its guesses still count
    # Instances take turns per client, then per (username, client) (always in this order), so N parallel
    # guesses cannot all slip under either limit.
    await failures.take_turn("login-client:" + client)
    gate = client_gate(await failures.of_client(client, since=now - policy.client_window), now=now, policy=policy)
    if not gate.allowed:
        return TooManyFailedSignIns(limit="client", retry_after_s=gate.retry_after_s)
    await failures.take_turn(f"login:{key}\n{client}")
    gate = pair_gate(await failures.of_pair(key, client, since=now - policy.memory), now=now, policy=policy)
    if not gate.allowed:
        return TooManyFailedSignIns(limit="username", retry_after_s=gate.retry_after_s)

    # Locked until the token is issued and this commits: a new password being written waits, and its tokens'
    # `not_before` is taken after (set_password), so no token signed in with the old password outlives it.
    account = await uow.accounts.get(username, for_share=True)
    stored_hash = account.password_hash if account else await asyncio.to_thread(_dummy_hash)
    if not (await _password_matches(stored_hash, password) and account and account.active):
        await failures.add(username=key, client=client, at=now, forget_before=now - policy.kept)
        return WrongCredentials()

    await failures.forget(key, client=client)
    if PASSWORD_HASHER.check_needs_rehash(account.password_hash):
        await uow.accounts.upgrade_hash(username, await hash_password(password))
    return auth.issue(
        Principal(subject=username, role=Role(account.role), province=account.province, unit=account.unit)
    )


# ----------------------------------------------------------------------------- accounts


async def create_account(
    uow: IntakeUnitOfWork,
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
    problems += await _catalogue_problems(uow, province, unit)
    if problems:
        raise AccountInvalid(problems)
    created = await uow.accounts.add(
        username=username, password_hash=await hash_password(password), role=role, province=province, unit=unit
    )
    if created is None:
        raise UsernameTaken(username)
    await uow.audit(
        at=now,
        actor=actor,
        action="account.created",
        subject=f"account:{username}",
        details={"role": role, "province": province, "unit": unit},
    )
    return created


async def _catalogue_problems(uow: IntakeUnitOfWork, province: str | None, unit: str | None) -> list[dict[str, str]]:
    if unit is not None and province is not None:
        if not await uow.catalog.has_unit(province, unit):
            return [{"field": "unit", "message": f"province {province} has no unit {unit}"}]
    elif province is not None:
        if not await uow.catalog.has_province(province):
            return [{"field": "province", "message": f"no province {province}"}]
    return []


async def set_password(uow: IntakeUnitOfWork, *, username: str, password: str, actor: str, clock: Clock) -> None:
    """Replace an account's password and clear its failed sign-ins from every address; its earlier tokens stop
    working on every service.

    The tokens' `not_before` is read from `clock` once the new hash is written: that write waited for every sign-in
    holding the account's row (`authenticate`), so a token signed in with the old password, even one issued while
    the new password was being hashed, is older than `not_before` and refused."""
    if why := password_problem(password):
        raise PasswordInvalid(why)
    account = await uow.accounts.get(username)
    if account is None or not await uow.accounts.set_password_hash(username, await hash_password(password)):
        raise AccountNotFound(username)
    now = clock.now()
    await uow.login_failures.forget(username)
    await change_access(
        uow, username=username, active=account.active, not_before=now, reason="password_changed", at=now
    )
    await uow.audit(at=now, actor=actor, action="account.password_set", subject=f"account:{username}", details={})


async def seed_demo_accounts(
    uow: IntakeUnitOfWork, *, password: str, env: str, actor: str = "system", now: datetime | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """Create the demo accounts for the catalogue as stored; returns those created (existing ones stay as they are).

    The caller commits. Refused when env is production.
    """
    if env == "production":
        raise RefusedInProduction("Demo accounts")
    wanted = demo_accounts(*await uow.catalog.active_scopes())
    # One hash for every demo account: they share a published password anyway, and thousands of
    # synthetic units would otherwise take minutes of argon2.
    shared_hash = await hash_password(password)
    created = await uow.accounts.add_missing(
        [
            {
                "username": a.username,
                "role": a.role.value,
                "province": a.province,
                "unit": a.unit,
                "password_hash": shared_hash,
            }
            for a in wanted
        ]
    )
    result = [a.as_tuple() for a in wanted if a.username in created]
    if result:
        await uow.audit(
            at=now or SystemClock().now(),
            actor=actor,
            action="account.demo_seeded",
            subject="accounts:demo",
            details={"created": len(result)},
        )
    return result
