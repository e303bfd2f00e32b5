"""Record what a unit sent: the first accepted submission decides timeliness; amendments after due_at are flagged."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from baocao_shared.events.submissions import SubmissionV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers.views import unit_views


async def submission_recorded(uow: DeadlinesUnitOfWork, submission: SubmissionV1) -> None:
    """Any version, in any order: keep the earliest first_received_at and the highest version. A report the
    office imported for a history period is not owed and changes no figure: it is not recorded here."""
    if submission.imported:
        return
    await uow.obligations.record(submission)
    await announce_first_submissions(
        uow,
        submission.province,
        submission.plan_id,
        submission.period,
        now=submission.received_at,
        unit=submission.unit,
    )


async def announce_first_submissions(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime, unit: str | None = None
) -> None:
    """Tell consolidation and others, once, how each obligation with a first submission stands. A
    submission can arrive before its period is opened here (then due_at is not known yet): the
    period's opening announces it instead. Either way it is announced exactly once."""
    waiting = await uow.obligations.unannounced(province, plan_id, period, unit=unit)
    if not waiting:
        return
    views = await unit_views(uow, province, plan_id, period, waiting, now=now)
    await uow.publish(OBLIGATION_UPDATED, views, province=province, at=now)
    await uow.obligations.announced(province, plan_id, period, waiting, at=now)
