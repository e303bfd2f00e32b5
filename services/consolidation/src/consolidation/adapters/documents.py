"""The register of outgoing documents (sổ văn bản đi) and the documents frozen at publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consolidation.adapters import orm


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    province: str
    plan_id: str
    period: str
    kind: str
    number: str
    media_type: str
    filename: str
    size: int
    signed_by: str | None
    published_at: datetime
    body: bytes | None = None


class Register:
    """Numbers without gaps or duplicates: the row of (province, year) is locked by the statement that takes
    the next number, until the publishing transaction ends (a rollback gives the number back)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take_next(self, province: str, year: int) -> int:
        r = orm.document_register
        stmt = insert(r).values(province=province, year=year, last_number=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["province", "year"], set_={"last_number": r.c.last_number + 1}
        ).returning(r.c.last_number)
        return int(await self.session.scalar(stmt))

    async def taken(self, province: str, year: int, number: int) -> None:
        """A number given before (a rebuild from the topics): the register is at least there."""
        r = orm.document_register
        stmt = insert(r).values(province=province, year=year, last_number=number)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["province", "year"], set_={"last_number": func.greatest(r.c.last_number, number)}
            )
        )

    async def last(self, province: str, year: int) -> int:
        r = orm.document_register.c
        found = await self.session.scalar(select(r.last_number).where(r.province == province, r.year == year))
        return int(found or 0)


class Documents:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, document: StoredDocument) -> None:
        values = {k: getattr(document, k) for k in StoredDocument.__dataclass_fields__}
        await self.session.execute(insert(orm.documents).values(values).on_conflict_do_nothing())

    async def find(self, sha256: str, *, body: bool = False) -> StoredDocument | None:
        columns = [c for c in orm.documents.c if body or c.name != "body"]
        row = (await self.session.execute(select(*columns).where(orm.documents.c.sha256 == sha256))).first()
        return None if row is None else StoredDocument(**row._mapping)

    async def issued_for(self, province: str, plan_id: str, period: str) -> list[StoredDocument]:
        """Every document the report was published with (a report published again has several), oldest first,
        without their bytes."""
        d = orm.documents.c
        columns = [c for c in orm.documents.c if c.name != "body"]
        rows = await self.session.execute(
            select(*columns)
            .where(d.province == province, d.plan_id == plan_id, d.period == period)
            .order_by(d.published_at, d.kind)
        )
        return [StoredDocument(**row._mapping) for row in rows]

    async def of_report(self, province: str, plan_id: str, period: str, kind: str) -> StoredDocument | None:
        """The newest document of that kind the report was published with (a reopened one may have several)."""
        d = orm.documents.c
        row = (
            await self.session.execute(
                select(orm.documents)
                .where(d.province == province, d.plan_id == plan_id, d.period == period, d.kind == kind)
                .order_by(d.published_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else StoredDocument(**row._mapping)
