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

from baocao_shared.principal import Principal, Role
from intake.adapters.api_tokens import ApiTokenRepository
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.account_errors import ApiTokenNotFound, ApiTokenRefused, MayNotManageApiTokens, NoActiveUnit
from intake.domain.accounts import may_manage_api_tokens

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
    uow: IntakeUnitOfWork, *, province: str, unit: str, label: str, actor: Principal, now: datetime
) -> NewApiToken:
    """A new API token for one unit: its reporter's key for a machine client."""
    _check_may_manage(actor, province, unit)
    if not await uow.catalog.has_unit(province, unit, active_only=True):
        raise NoActiveUnit(province=province, unit=unit)
    token_id, secret = uuid.uuid4(), API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await uow.api_tokens.add(
        token_id=token_id,
        token_hash=_token_hash(secret),
        province=province,
        unit=unit,
        label=label,
        created_by=actor.subject,
        created_at=now,
    )
    await uow.audit(
        at=now,
        actor=actor.subject,
        action="api_token.created",
        subject=f"unit:{province}.{unit}",
        details={"token_id": str(token_id), "label": label},
    )
    return NewApiToken(token_id, secret, province, unit, label, actor.subject, now)


async def list_api_tokens(uow: IntakeUnitOfWork, *, province: str, unit: str, actor: Principal) -> list[dict]:
    """The unit's API tokens, revoked ones included, without their secrets."""
    _check_may_manage(actor, province, unit)
    return await uow.api_tokens.of_unit(province, unit)


async def revoke_api_token(
    uow: IntakeUnitOfWork, *, province: str, unit: str, token_id: uuid.UUID, actor: Principal, now: datetime
) -> Literal["revoked", "already_revoked"]:
    """Revoke one of the unit's tokens; revoking it again changes nothing."""
    _check_may_manage(actor, province, unit)
    if not await uow.api_tokens.revoke(province=province, unit=unit, token_id=token_id, at=now):
        if not await uow.api_tokens.exists(province=province, unit=unit, token_id=token_id):
            raise ApiTokenNotFound(province=province, unit=unit, token_id=token_id)
        return "already_revoked"
    await uow.audit(
        at=now,
        actor=actor.subject,
        action="api_token.revoked",
        subject=f"unit:{province}.{unit}",
        details={"token_id": str(token_id)},
    )
    return "revoked"


async def principal_for_api_token(tokens: ApiTokenRepository, *, token: str, now: datetime) -> Principal:
    """The unit reporter an API token stands for; 401 when it is unknown, revoked or its unit retired."""
    found = await tokens.in_use(_token_hash(token))
    if found is None:
        raise ApiTokenRefused()
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
        await tokens.mark_used(found.id, now)
    return Principal(
        subject=f"token:{found.id}", role=Role.REPORTER, province=found.province, unit=found.unit, via="api_token"
    )


def _check_may_manage(actor: Principal, province: str, unit: str) -> None:
    if not may_manage_api_tokens(actor, province, unit):
        raise MayNotManageApiTokens(province=province, unit=unit)
