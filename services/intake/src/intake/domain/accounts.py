"""Rules of accounts (tài khoản): who may hold which role, the demo accounts' names, the sign-in throttling.

Pure: no I/O, and `now` is always passed in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from baocao_shared.principal import Principal, Role, scope_problem

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
PROVINCE = re.compile(r"^\d{2}$")
UNIT = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")  # as UnitV1.code
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte "password" is a cheap way to burn our CPU

ADMIN_USERNAME = "admin"
NATIONAL_USERNAME = "national"


def operator_username(province: str) -> str:
    """The demo province operator of `province`, e.g. op-30."""
    return f"op-{province}"


def reporter_username(province: str, unit: str) -> str:
    """The demo reporter of a unit, e.g. 30-CA (Công an tỉnh of province 30)."""
    return f"{province}-{unit}"


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"at most {MAX_PASSWORD_LENGTH} characters"
    return None


def account_problems(
    *, username: str, role: str, province: str | None, unit: str | None, password: str | None = None
) -> list[dict[str, str]]:
    """Every reason this account cannot exist, as [{field, message}]; empty when it can."""
    problems: list[dict[str, str]] = []
    if not USERNAME.match(username):
        problems.append({"field": "username", "message": "2-80 letters, digits, '.', '_', '@' or '-'"})
    if password is not None and (why := password_problem(password)):
        problems.append({"field": "password", "message": why})
    if province is not None and not PROVINCE.match(province):
        problems.append({"field": "province", "message": "two digits, e.g. 30"})
    if unit is not None and not UNIT.match(unit):
        problems.append({"field": "unit", "message": "a unit code, e.g. CA"})
    try:
        why = scope_problem(Role(role), province, unit)
    except ValueError:
        why = f"one of {', '.join(r.value for r in Role)}"
        problems.append({"field": "role", "message": why})
    else:
        if why:
            problems.append({"field": "role", "message": why})
    return problems


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    province: str | None = None
    unit: str | None = None

    def as_tuple(self) -> tuple[str, str, str | None, str | None]:
        return (self.username, self.role.value, self.province, self.unit)


def demo_accounts(provinces: Iterable[str], units: Iterable[tuple[str, str]]) -> list[DemoAccount]:
    """admin, national, op-<province> for each province and <province>-<unit> for each unit."""
    accounts = [DemoAccount(ADMIN_USERNAME, Role.ADMIN), DemoAccount(NATIONAL_USERNAME, Role.NATIONAL_OPERATOR)]
    accounts += [DemoAccount(operator_username(p), Role.PROVINCE_OPERATOR, p) for p in sorted(set(provinces))]
    accounts += [DemoAccount(reporter_username(p, u), Role.REPORTER, p, u) for p, u in sorted(set(units))]
    return accounts


@dataclass(frozen=True)
class LoginPolicy:
    """How failed sign-ins slow down the next ones. Never per username alone: anyone could then lock a real user
    out by typing wrong passwords for that name.

    - Per (username, client address): `free_failures` wrong passwords, then exponential backoff: after the n-th
      failure the next try from that address waits `backoff_base * 2 ** (n - free_failures)`, at most
      `backoff_max`. The pair's failures count for `memory`; signing in from that address clears them.
      The same username from another address is not slowed at all.
    - Per client address: at most `client_max_failures` failures within `client_window`, whatever usernames
      they tried: one address cannot spray a password over many accounts.
    """

    free_failures: int = 3
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_max: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=24)
    client_max_failures: int = 30
    client_window: timedelta = timedelta(minutes=15)

    @property
    def kept(self) -> timedelta:
        """How long a failure matters to either rule: older ones may be deleted."""
        return max(self.memory, self.client_window)


@dataclass(frozen=True)
class LoginGate:
    allowed: bool
    retry_after_s: int = 0


def _retry_after(opens_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((opens_at - now).total_seconds()))


def backoff(failures: int, policy: LoginPolicy) -> timedelta:
    """The wait after the last of `failures` failures of one username from one address before the next try."""
    if failures < policy.free_failures:
        return timedelta(0)
    doublings = min(failures - policy.free_failures, 40)  # 2**40 periods outlast any cap: no overflow
    return min(policy.backoff_base * 2**doublings, policy.backoff_max)


def pair_gate(failures: Sequence[datetime], *, now: datetime, policy: LoginPolicy) -> LoginGate:
    """May this username be tried from this address now, given the instants of the pair's failed attempts?"""
    recent = sorted(at for at in failures if now - policy.memory < at <= now)
    wait = backoff(len(recent), policy)
    if not recent or not wait or now >= recent[-1] + wait:
        return LoginGate(allowed=True)
    return LoginGate(allowed=False, retry_after_s=_retry_after(recent[-1] + wait, now))


def client_gate(failures: Sequence[datetime], *, now: datetime, policy: LoginPolicy) -> LoginGate:
    """May this client address try a sign-in now, given the instants of its failed attempts (any username)?

    Blocked while `client_max_failures` or more failures fall within the window ending now; the block lifts
    when enough of them have aged out of the window to leave one try.
    """
    recent = sorted(at for at in failures if now - policy.client_window < at <= now)
    if len(recent) < policy.client_max_failures:
        return LoginGate(allowed=True)
    unblocks_at = recent[len(recent) - policy.client_max_failures] + policy.client_window
    return LoginGate(allowed=False, retry_after_s=_retry_after(unblocks_at, now))


def may_manage_api_tokens(principal: Principal, province: str, unit: str) -> bool:
    """The unit's reporter, its province's operator, or an admin; never an API token itself."""
    if principal.via == "api_token":
        return False
    if principal.role is Role.REPORTER:
        return principal.province == province and principal.unit == unit
    return principal.may_operate_province(province)


def may_see_contacts(principal: Principal, province: str, unit: str | None = None) -> bool:
    """Where an office receives notices (its mailboxes and webhook endpoints) is for the province's staff
    office, the national office and admins, and for a unit's own reporter; every other account reads the
    catalogue without them."""
    if principal.role is Role.REPORTER:
        return unit is not None and principal.may_read_unit(province, unit)
    return principal.may_read_province(province)
