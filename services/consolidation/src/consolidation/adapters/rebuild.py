"""What a rebuild does to the database around the replay: empty the projection before, and after it mark
the outbox rows the replay wrote as sent (the events they stand for are already on the topics)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from consolidation.adapters import orm

# Everything the topics restore; the audit trail is append-only and is kept.
PROJECTION = (
    "provinces", "units", "plans", "regimes", "unit_reports", "obligations", "period_closes", "reports",
    "report_sections", "document_register", "documents", "account_access", "inbox",
)  # fmt: skip


async def empty_projection(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(PROJECTION)}"))


async def mark_outbox_sent(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(orm.outbox.update().where(orm.outbox.c.sent_at.is_(None)).values(sent_at=text("now()")))
