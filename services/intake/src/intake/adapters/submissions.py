"""The SQL of a unit's reports: the latest version in `submissions`, every version in `submission_versions`."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, String, Table, and_, bindparam, exists, false, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from intake.adapters import orm
from intake.adapters.parsed import PARSED
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

# A unit's first report and its history row in one statement; the unique (province, plan, unit, period) turns a
# second one into no row (and no history row).
_LATEST_COLUMNS = [c.name for c in orm.submissions.columns]
_FIRST = (
    insert(orm.submissions)
    .values({name: bindparam(name, type_=orm.submissions.c[name].type) for name in _LATEST_COLUMNS})
    .on_conflict_do_nothing(constraint="uq_submissions_unit_period")
    .returning(_S.id, _S.version, _S["values"], _S.narratives, _S.received_at, _S.submitted_by)
    .cte("first_version")
)
_HISTORY_OF_FIRST = {"changes": JSONB, "after_close": Boolean, "imported": Boolean, **dict.fromkeys(_ENTRY, String)}
_INSERT_FIRST_VERSION = (
    insert(orm.submission_versions)
    .from_select(
        ["submission_id", "version", "values", "narratives", "received_at", "submitted_by", *_HISTORY_OF_FIRST],
        select(
            _FIRST.c.id, _FIRST.c.version, _FIRST.c["values"], _FIRST.c.narratives, _FIRST.c.received_at,
            _FIRST.c.submitted_by, *(bindparam(f"h_{name}", type_=t) for name, t in _HISTORY_OF_FIRST.items()),
        ),
    )
    .returning(_V.submission_id)
)  # fmt: skip


def _version(table: Table) -> object:
    """The stored version of a catalogue row: PostgreSQL's xmin (new with every committed change) and updated_at."""
    return literal_column(f"{table.name}.xmin::text || '@' || {table.name}.updated_at::text")


def _holders(*, docs: bool):
    """Each province holding the plan `plan_id`, with the versions of the plan, the province and the unit `unit`
    (NULL when the province has no such unit) and whether `period` is locked there; with `docs` their documents."""
    p, province, unit, lock = orm.plans.c, orm.provinces.c, orm.units.c, orm.period_locks.c
    locked = exists().where(lock.province == p.province, lock.plan_id == p.id, lock.period == bindparam("period"))
    columns = [
        p.province,
        _version(orm.plans).label("plan_v"),
        _version(orm.provinces).label("province_v"),
        _version(orm.units).label("unit_v"),
        locked.label("locked"),
    ]
    if docs:
        columns += [p.doc.label("plan_doc"), province.doc.label("province_doc"), unit.doc.label("unit_doc")]
    return (
        select(*columns)
        .select_from(
            orm.plans.join(orm.provinces, province.code == p.province).outerjoin(
                orm.units, and_(unit.province == p.province, unit.code == bindparam("unit"))
            )
        )
        .where(p.id == bindparam("plan_id"))
        .order_by(p.province)
    )


_HOLDER_VERSIONS = _holders(docs=False)
_HOLDER_DOCS = _holders(docs=True)


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan_holders(self, plan_id: str, period: str, unit: str) -> list[PlanHolder]:
        """In one query, each province holding a plan of this id, with the plan, the province, the unit of that
        code there and whether the period is locked there (a submission reads all four before it writes).

        The query reads the documents' versions only: each version is validated once (`adapters.parsed`), and
        a second query reads the documents when a version is new to this process."""
        params = {"plan_id": plan_id, "period": period, "unit": unit}
        rows = (await self.session.execute(_HOLDER_VERSIONS, params)).all()
        holders = [_holder(r, plan_id, unit) for r in rows]
        if all(h is not None for h in holders):
            return holders  # type: ignore[return-value]
        return [_parsed_holder(r, plan_id, unit) for r in await self.session.execute(_HOLDER_DOCS, params)]

    async def add_first(self, submission: Submission, *, changes: dict) -> bool:
        """Store version 1 with its history row (`changes`: what it changed); False when the unit already has a
        report for the period (nothing stored)."""
        # Values as parameters of a fixed statement: SQLAlchemy reuses its compiled form without walking them.
        params = submission.model_dump(exclude=_OF_VERSION)
        of_version = submission.model_dump(include=_OF_VERSION)
        params |= {f"h_{name}": of_version.get(name) for name in _HISTORY_OF_FIRST if name != "changes"}
        inserted = await self.session.scalar(_INSERT_FIRST_VERSION, params | {"h_changes": changes})
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


def _holder(row, plan_id: str, unit: str) -> PlanHolder | None:
    """The holder from the documents parsed before; None when a version is new to this process."""
    plan = PARSED.get(PlanV1, (row.province, plan_id), row.plan_v)
    province = PARSED.get(ProvinceV1, (row.province,), row.province_v)
    found = PARSED.get(UnitV1, (row.province, unit), row.unit_v)
    if plan is None or province is None or (row.unit_v is not None and found is None):
        return None
    return PlanHolder(row.province, plan, province.timezone, row.locked, found)


def _parsed_holder(row, plan_id: str, unit: str) -> PlanHolder:
    plan = PARSED.parse(PlanV1, (row.province, plan_id), row.plan_v, row.plan_doc)
    province = PARSED.parse(ProvinceV1, (row.province,), row.province_v, row.province_doc)
    found = PARSED.parse(UnitV1, (row.province, unit), row.unit_v, row.unit_doc) if row.unit_v is not None else None
    return PlanHolder(row.province, plan, province.timezone, row.locked, found)
