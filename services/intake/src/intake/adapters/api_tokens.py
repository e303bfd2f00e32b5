"""The SQL of units' API tokens (`api_tokens`): only each token's hash is stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from intake.adapters import orm

_T, _U = orm.api_tokens.c, orm.units.c


class ApiTokenRepository:
    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        self.session = session

    async def add(
        self,
        *,
        token_id: uuid.UUID,
        token_hash: str,
        province: str,
        unit: str,
        label: str,
        created_by: str,
        created_at: datetime,
    ) -> None:
        await self.session.execute(
            orm.api_tokens.insert().values(
                id=token_id,
                token_hash=token_hash,
                province=province,
                unit=unit,
                label=label,
                created_by=created_by,
                created_at=created_at,
            )
        )

    async def of_unit(self, province: str, unit: str) -> list[dict]:
        """The unit's tokens, revoked ones included, oldest first, without their hashes."""
        rows = await self.session.execute(
            select(_T.id, _T.label, _T.province, _T.unit, _T.created_by, _T.created_at, _T.last_used_at, _T.revoked_at)
            .where(_T.province == province, _T.unit == unit)
            .order_by(_T.created_at, _T.id)
        )
        return [dict(row._mapping) for row in rows]

    async def revoke(self, *, province: str, unit: str, token_id: uuid.UUID, at: datetime) -> bool:
        """False when the unit has no such token in use."""
        revoked = await self.session.scalar(
            update(orm.api_tokens)
            .where(_mine(province, unit, token_id), _T.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(_T.id)
        )
        return revoked is not None

    async def exists(self, *, province: str, unit: str, token_id: uuid.UUID) -> bool:
        return await self.session.scalar(select(_T.id).where(_mine(province, unit, token_id))) is not None

    async def in_use(self, token_hash: str) -> Any | None:
        """The token (id, province, unit, last_used_at) when it is not revoked and its unit is active."""
        return (
            await self.session.execute(
                select(_T.id, _T.province, _T.unit, _T.last_used_at)
                .join(orm.units, and_(_U.province == _T.province, _U.code == _T.unit))
                .where(_T.token_hash == token_hash, _T.revoked_at.is_(None), _U.active)
            )
        ).first()

    async def mark_used(self, token_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(update(orm.api_tokens).where(_T.id == token_id).values(last_used_at=at))


def _mine(province: str, unit: str, token_id: uuid.UUID):
    return and_(_T.id == token_id, _T.province == province, _T.unit == unit)
