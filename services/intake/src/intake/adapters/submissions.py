"""The SQL of a unit's reports: the latest version in `submissions`, every version in `submission_versions`."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, false, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import orm
from intake.domain.models import PlanHolder, Submission, VersionOut

_S = orm.submissions.c
_V = orm.submission_versions.c
_FLAGS = ("after_close", "imported")
_ENTRY = ("channel", "entered_by", "source")  # how a version came in (intake.domain.entry)
_OF_VERSION = {*_FLAGS, *_ENTRY}  # kept with each version in the history, not on the latest

# A report as read: its latest row, with what its latest version holds in the history.
_LATEST = select(
    orm.submissions, *(func.coalesce(_V[flag], false()).label(flag) for flag in _FLAGS), *(_V[c] for c in _ENTRY)
).select_from(
    orm.submissions.outerjoin(orm.submission_versions, (_V.submission_id == _S.id) & (_V.version == _S.version))
)

# A unit's first report; the unique (province, plan, unit, period) turns a second one into no row.
_INSERT_FIRST_VERSION = (
    insert(orm.submissions).on_conflict_do_nothing(constraint="uq_submissions_unit_period").returning(_S.id)
)


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan_holders(self, plan_id: str, period: str) -> list[PlanHolder]:
        """In one query, each province holding a plan of this id, with the plan, the province and whether the
        period is locked there (a submission reads all three before it writes)."""
        p, province, lock = orm.plans.c, orm.provinces.c, orm.period_locks.c
        locked = exists().where(lock.province == p.province, lock.plan_id == p.id, lock.period == period)
        rows = await self.session.execute(
            select(p.province, p.doc, province.doc.label("province_doc"), locked.label("locked"))
            .join(orm.provinces, province.code == p.province)
            .where(p.id == plan_id)
            .order_by(p.province)
        )
        return [PlanHolder(r.province, r.doc, r.province_doc, r.locked) for r in rows]

    async def add_first(self, submission: Submission) -> bool:
        """Store version 1; False when the unit already has a report for the period."""
        # Values as parameters of a fixed statement: SQLAlchemy reuses its compiled form without walking them.
        inserted = await self.session.scalar(_INSERT_FIRST_VERSION, submission.model_dump(exclude=_OF_VERSION))
        return inserted is not None

    async def id_for(self, *, province: str, plan_id: str, unit: str, period: str) -> uuid.UUID | None:
        return await self.session.scalar(
            select(_S.id).where(_S.province == province, _S.plan_id == plan_id, _S.unit == unit, _S.period == period)
        )

    async def get(self, submission_id: uuid.UUID, *, for_update: bool = False) -> Submission | None:
        query = _LATEST.where(_S.id == submission_id)
        row = (await self.session.execute(query.with_for_update(of=orm.submissions) if for_update else query)).first()
        return Submission(**row._mapping) if row else None

    async def store_version(self, submission: Submission) -> None:
        """Make this version the report's latest."""
        latest = submission.model_dump(include={"version", "values", "narratives", "received_at", "submitted_by"})
        await self.session.execute(orm.submissions.update().where(_S.id == submission.id).values(**latest))

    async def add_history(self, submission: Submission, *, changes: dict) -> None:
        """Keep the version, with what it changed, in the report's history."""
        version = submission.model_dump(
            include={"version", "values", "narratives", "received_at", "submitted_by", *_OF_VERSION}
        )
        await self.session.execute(
            orm.submission_versions.insert(), {"submission_id": submission.id, **version, "changes": changes}
        )

    async def history(self, submission_id: uuid.UUID) -> list[VersionOut]:
        rows = await self.session.execute(
            select(orm.submission_versions).where(_V.submission_id == submission_id).order_by(_V.version)
        )
        return [
            VersionOut(
                version=h.version,
                received_at=h.received_at,
                submitted_by=h.submitted_by,
                changes=h.changes,
                imported=h.imported,
                after_close=h.after_close,
                channel=h.channel,
                entered_by=h.entered_by,
                source=h.source,
            )
            for h in rows
        ]

    async def search(
        self, *, province: str | None, unit: str | None, period: str | None, plan_id: str | None, limit: int
    ) -> list[Submission]:
        """Reports matching every filter given, newest period first."""
        query = _LATEST
        for column, value in ((_S.province, province), (_S.unit, unit), (_S.period, period), (_S.plan_id, plan_id)):
            if value:
                query = query.where(column == value)
        rows = await self.session.execute(query.order_by(_S.period.desc(), _S.province, _S.unit).limit(limit))
        return [Submission(**r._mapping) for r in rows]
