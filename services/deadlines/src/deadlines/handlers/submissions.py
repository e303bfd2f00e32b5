"""Record what a unit sent: the first accepted submission decides timeliness; amendments after due_at are flagged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events import make_event, topics
from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from baocao_shared.events.submissions import SubmissionV1
from baocao_shared.messaging.outbox import enqueue
from deadlines.adapters import orm
from deadlines.handlers.views import obligation_view

SOURCE = "/baocao/deadlines"


async def submission_recorded(session: AsyncSession, submission: SubmissionV1) -> None:
    """Any version, in any order: keep the earliest first_received_at and the highest version."""
    o = orm.obligations
    before = (
        await session.execute(select(o.c.first_submitted_at).where(*_key(o, submission)).with_for_update())
    ).first()
    stmt = insert(o).values(
        province=submission.province,
        plan_id=submission.plan_id,
        period=submission.period,
        unit=submission.unit,
        first_submitted_at=submission.first_received_at,
        submission_id=submission.submission_id,
        last_version=submission.version,
        last_received_at=submission.received_at,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["province", "plan_id", "period", "unit"],
            set_={
                "first_submitted_at": func.least(o.c.first_submitted_at, stmt.excluded.first_submitted_at),
                "submission_id": stmt.excluded.submission_id,
                "last_version": func.greatest(o.c.last_version, stmt.excluded.last_version),
                "last_received_at": func.greatest(o.c.last_received_at, stmt.excluded.last_received_at),
                "amended_after_due": (
                    o.c.amended_after_due | (o.c.due_at.is_not(None) & (stmt.excluded.last_received_at >= o.c.due_at))
                    if submission.version > 1
                    else o.c.amended_after_due
                ),
            },
        )
    )
    if before is None or before.first_submitted_at is None:
        await _announce(session, submission, now=submission.received_at)


async def _announce(session: AsyncSession, submission: SubmissionV1, *, now: datetime) -> None:
    """Tell consolidation and others how the obligation now stands, once its due_at is known."""
    view = await obligation_view(
        session, submission.province, submission.plan_id, submission.period, submission.unit, now=now
    )
    if view is not None:
        event = make_event(OBLIGATION_UPDATED, view, source=SOURCE, province=submission.province, time=now)
        await enqueue(session, orm.outbox, topics.DEADLINES, [event])


def _key(table, s: SubmissionV1):
    return (
        table.c.province == s.province,
        table.c.plan_id == s.plan_id,
        table.c.period == s.period,
        table.c.unit == s.unit,
    )
