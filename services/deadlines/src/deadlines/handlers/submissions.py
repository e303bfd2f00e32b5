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
from deadlines.handlers.views import unit_views

SOURCE = "/baocao/deadlines"


async def submission_recorded(session: AsyncSession, submission: SubmissionV1) -> None:
    """Any version, in any order: keep the earliest first_received_at and the highest version."""
    o = orm.obligations
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
    await announce_first_submissions(
        session,
        submission.province,
        submission.plan_id,
        submission.period,
        now=submission.received_at,
        unit=submission.unit,
    )


async def announce_first_submissions(
    session: AsyncSession, province: str, plan_id: str, period: str, *, now: datetime, unit: str | None = None
) -> None:
    """Tell consolidation and others, once, how each obligation with a first submission stands. A
    submission can arrive before its period is opened here (then due_at is not known yet): the
    period's opening announces it instead. Either way it is announced exactly once."""
    o = orm.obligations.c
    query = select(orm.obligations.c.unit).where(
        o.province == province,
        o.plan_id == plan_id,
        o.period == period,
        o.expected,
        o.due_at.is_not(None),
        o.first_submitted_at.is_not(None),
        o.announced_at.is_(None),
    )
    if unit is not None:
        query = query.where(o.unit == unit)
    waiting = (await session.execute(query.with_for_update())).scalars().all()
    if not waiting:
        return
    views = await unit_views(session, province, plan_id, period, waiting, now=now)
    events = [make_event(OBLIGATION_UPDATED, v, source=SOURCE, province=province, time=now) for v in views]
    await enqueue(session, orm.outbox, topics.DEADLINES, events)
    await session.execute(
        orm.obligations.update()
        .where(o.province == province, o.plan_id == plan_id, o.period == period, o.unit.in_(waiting))
        .values(announced_at=now)
    )
