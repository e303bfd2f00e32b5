"""Record what a unit sent: the first accepted submission decides timeliness; amendments after due_at are flagged."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from baocao_shared.events.submissions import SubmissionV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.arrivals import Arrived, fold, key_of, split_first
from deadlines.handlers.views import to_view, unit_views


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


async def submissions_recorded(uow: DeadlinesUnitOfWork, batch: list[SubmissionV1]) -> None:
    """As `submission_recorded` on each in turn, in a few statements whatever the run's length (a consumer's
    fetched batch). Recording never changes whether an obligation is owed or announced, so only each
    obligation's first submission of the run can announce it, and it does so as it would alone: with the row as
    that submission left it, at that submission's time. The run's later submissions are then folded into one
    row per obligation (`domain.arrivals`)."""
    first, rest = split_first(s for s in batch if not s.imported)
    if not first:
        return
    await uow.obligations.record_many([Arrived.of(s) for s in first])
    rows = {key_of(r): r for r in await uow.obligations.to_announce([key_of(s) for s in first])}
    announcing = [(rows[key_of(s)], s.received_at) for s in first if key_of(s) in rows]
    if announcing:
        views = [(to_view(row, closed_at=row.closed_at, now=at), row.province, at) for row, at in announcing]
        await uow.publish_each(OBLIGATION_UPDATED, views)
        await uow.obligations.announced_each([(key_of(row), at) for row, at in announcing])
    await uow.obligations.record_many(fold(rest))


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
