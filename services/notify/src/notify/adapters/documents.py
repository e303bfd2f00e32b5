"""The `documents` table: each document frozen at publishing, by its SHA-256, with its bytes."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters import orm
from notify.domain.documents import Document

t = orm.documents


class Documents:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep(self, document: Document) -> bool:
        """Keep the document; the same bytes again (a replay, a second copy) keep nothing. True when new."""
        kept = await self.session.execute(
            insert(t).values(asdict(document)).on_conflict_do_nothing(index_elements=["sha256"]).returning(t.c.sha256)
        )
        return kept.first() is not None

    async def has(self, sha256: str) -> bool:
        return await self.session.scalar(select(t.c.sha256).where(t.c.sha256 == sha256)) is not None

    async def get(self, sha256: str) -> Document | None:
        row = (await self.session.execute(select(t).where(t.c.sha256 == sha256))).first()
        if row is None:
            return None
        return Document(**{name: value for name, value in row._mapping.items() if name != "created_at"})
