"""Use cases of a unit's API tokens (khóa API): issue, list, revoke, and authenticate a request by one.

A token carries 256 random bits, so a fast SHA-256 is enough to make a stolen table useless while
keeping each API request cheap; the secret itself is shown once and never stored. The caller owns
the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from baocao_shared.errors import Forbidden, NotFound, Unauthorized
from baocao_shared.principal import Principal, Role
from intake.adapters import orm
from intake.domain.accounts import may_manage_api_tokens
from intake.handlers.accounts import record_audit

API_TOKEN_PREFIX = "bc_"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # an API token's last_used_at is refreshed at most this often


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiToken:
    id: uuid.UUID
    token: str  # shown once, never stored
    province: str
    unit: str
    label: str
    created_by: str
    created_at: datetime


async def issue_api_token(
    session: AsyncSession, *, province: str, unit: str, label: str, actor: Principal, now: datetime
) -> NewApiToken:
    """A new API token for one unit: its reporter's key for a machine client."""
    _check_may_manage(actor, province, unit)
    u = orm.units.c
    if await session.scalar(select(u.code).where(u.province == province, u.code == unit, u.active)) is None:
        raise NotFound(f"Province {province} has no active unit {unit}.")
    token_id, secret = uuid.uuid4(), API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await session.execute(
        orm.api_tokens.insert().values(
            id=token_id,
            token_hash=_token_hash(secret),
            province=province,
            unit=unit,
            label=label,
            created_by=actor.subject,
            created_at=now,
        )
    )
    await record_audit(
        session,
        actor=actor.subject,
        action="api_token.created",
        subject=f"unit:{province}.{unit}",
        details={"token_id": str(token_id), "label": label},
        at=now,
    )
    return NewApiToken(token_id, secret, province, unit, label, actor.subject, now)


async def list_api_tokens(session: AsyncSession, *, province: str, unit: str, actor: Principal) -> list[dict]:
    """The unit's API tokens, revoked ones included, without their secrets."""
    _check_may_manage(actor, province, unit)
    t = orm.api_tokens.c
    rows = await session.execute(
        select(t.id, t.label, t.province, t.unit, t.created_by, t.created_at, t.last_used_at, t.revoked_at)
        .where(t.province == province, t.unit == unit)
        .order_by(t.created_at, t.id)
    )
    return [dict(row._mapping) for row in rows]


async def revoke_api_token(
    session: AsyncSession, *, province: str, unit: str, token_id: uuid.UUID, actor: Principal, now: datetime
) -> Literal["revoked", "already_revoked"]:
    _check_may_manage(actor, province, unit)
    t = orm.api_tokens.c
    mine = and_(t.id == token_id, t.province == province, t.unit == unit)
    revoked = await session.scalar(
        update(orm.api_tokens).where(mine, t.revoked_at.is_(None)).values(revoked_at=now).returning(t.id)
    )
    if revoked is None:
        if await session.scalar(select(t.id).where(mine)) is None:
            raise NotFound(f"Unit {province}.{unit} has no API token {token_id}.")
        return "already_revoked"
    await record_audit(
        session,
        actor=actor.subject,
        action="api_token.revoked",
        subject=f"unit:{province}.{unit}",
        details={"token_id": str(token_id)},
        at=now,
    )
    return "revoked"


async def principal_for_api_token(session: AsyncSession | AsyncConnection, *, token: str, now: datetime) -> Principal:
    """The unit reporter an API token stands for; 401 when it is unknown, revoked or its unit retired."""
    t, u = orm.api_tokens.c, orm.units.c
    row = (
        await session.execute(
            select(t.id, t.province, t.unit, t.last_used_at)
            .join(orm.units, and_(u.province == t.province, u.code == t.unit))
            .where(t.token_hash == _token_hash(token), t.revoked_at.is_(None), u.active)
        )
    ).first()
    if row is None:
        raise Unauthorized("The API token is unknown or revoked.")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(update(orm.api_tokens).where(t.id == row.id).values(last_used_at=now))
    return Principal(
        subject=f"token:{row.id}", role=Role.REPORTER, province=row.province, unit=row.unit, via="api_token"
    )


def _check_may_manage(actor: Principal, province: str, unit: str) -> None:
    if not may_manage_api_tokens(actor, province, unit):
        raise Forbidden(
            f"Only unit {province}.{unit}'s reporter, the province's operators or an admin manage its API tokens."
        )
