"""What the staff office wrote in its report's sections (`report_sections`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consolidation.adapters import orm
from consolidation.domain.sections import EditedSection


class Sections:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def edited(self, province: str, plan_id: str, period: str) -> dict[str, EditedSection]:
        c = orm.report_sections.c
        rows = await self.session.execute(
            select(orm.report_sections).where(c.province == province, c.plan_id == plan_id, c.period == period)
        )
        return {
            r.key: EditedSection(
                key=r.key, text=r.text, version=r.version, edited_by=r.edited_by, edited_at=r.edited_at,
                sources=r.sources,
            )
            for r in rows
        }  # fmt: skip

    async def save(self, province: str, plan_id: str, period: str, section: EditedSection) -> None:
        """Store an edit; one older than the stored one (our own event read back) changes nothing."""
        values = {
            "text": section.text, "version": section.version, "edited_by": section.edited_by,
            "edited_at": section.edited_at, "sources": dict(section.sources),
        }  # fmt: skip
        stmt = insert(orm.report_sections).values(
            province=province, plan_id=plan_id, period=period, key=section.key, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[*orm.REPORT_KEY, "key"],
                set_=values,
                where=orm.report_sections.c.version <= section.version,
            )
        )
