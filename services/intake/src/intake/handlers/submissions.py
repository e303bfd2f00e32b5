"""Use cases of a unit's report: submit, amend, read; each change goes out through the outbox.

The caller owns the transaction: these functions never commit, so the state change, its audit
row, its idempotency record and its event commit together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from baocao_shared.events import make_event, topics
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.messaging.outbox import enqueue
from baocao_shared.principal import Principal, Role
from intake.adapters import orm
from intake.domain import submissions as rules
from intake.handlers import catalog

SOURCE = "/baocao/intake"

Figures = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}),
]
Narratives = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", "additionalProperties": {"type": "string", "maxLength": 20000}})
]


class SubmissionIn(BaseModel):
    plan_id: str = Field(max_length=64, examples=["hd-467-2019"])
    unit: str = Field(max_length=40, examples=["CA"])
    period: str = Field(max_length=10, examples=["2019-06"])
    values: Figures = Field(examples=[{"t1_sessions": 3, "t1_participants": 420}])
    narratives: Narratives = Field(default_factory=dict, examples=[{"T1": "Tổ chức 3 hội nghị quán triệt Chỉ thị 44."}])


class AmendmentIn(BaseModel):
    values: Figures
    narratives: Narratives = Field(default_factory=dict)
    base_version: int | None = Field(
        None, ge=1, description="The version this amendment was made from; another version in between gives 409"
    )


class Receipt(BaseModel):
    id: uuid.UUID
    version: int
    received_at: datetime
    status: str = Field(description="received (version 1) or amended")


class VersionOut(BaseModel):
    version: int
    received_at: datetime
    submitted_by: str | None
    changes: dict[str, Any]


class SubmissionOut(BaseModel):
    id: uuid.UUID
    province: str
    plan_id: str
    unit: str
    period: str
    version: int
    values: dict[str, int]
    narratives: dict[str, str]
    first_received_at: datetime
    received_at: datetime
    submitted_by: str | None
    locked: bool
    history: list[VersionOut] = []


async def submit(session: AsyncSession, *, principal: Principal, body: SubmissionIn, now: datetime) -> Receipt:
    """Accept a unit's first report for a period (version 1)."""
    if principal.role is not Role.REPORTER:
        raise Forbidden("Only a unit's reporter account or API token can submit its report.")
    province = principal.province or ""
    if body.unit != principal.unit:
        raise Forbidden(f"This account reports for unit {principal.unit}, not {body.unit}.")
    found = await _plan_holders(session, body.plan_id, body.period)
    mine = next((h for h in found if h.province == province), None)
    if mine is None and found:
        raise Forbidden(
            f"Plan {body.plan_id} belongs to province {found[0].province}; this account reports to province {province}."
        )
    plan = _usable_plan(province, body.plan_id, body.unit, PlanV1.model_validate(mine.doc) if mine else None)
    tz = ProvinceV1.model_validate(mine.province_doc).timezone
    problems = rules.check_period(plan, body.period, tz, now) + rules.check_content(plan, body.values, body.narratives)
    _raise_if(problems)
    if mine.locked:
        raise _period_locked(province, plan.id, body.period)
    submission_id = uuid.uuid4()
    narratives = rules.clean_narratives(body.narratives)
    inserted = await session.scalar(
        _INSERT_FIRST_VERSION,
        {
            "id": submission_id,
            "province": province,
            "plan_id": plan.id,
            "unit": body.unit,
            "period": body.period,
            "version": 1,
            "values": body.values,
            "narratives": narratives,
            "first_received_at": now,
            "received_at": now,
            "submitted_by": principal.subject,
        },
    )
    if inserted is None:
        existing = await session.scalar(
            select(orm.submissions.c.id).where(
                orm.submissions.c.province == province,
                orm.submissions.c.plan_id == plan.id,
                orm.submissions.c.unit == body.unit,
                orm.submissions.c.period == body.period,
            )
        )
        raise Conflict(
            f"Unit {body.unit} already submitted period {body.period}; amend it with PUT /v1/submissions/{existing}.",
            {"submission_id": str(existing)},
        )
    content = SubmissionV1(
        submission_id=submission_id,
        province=province,
        unit=body.unit,
        plan_id=plan.id,
        period=body.period,
        version=1,
        values=body.values,
        narratives=narratives,
        received_at=now,
        first_received_at=now,
        submitted_by=principal.subject,
    )
    await _record_version(session, content, {"figures": {}, "narratives": [], "first": True}, "submission.received")
    await enqueue(
        session,
        orm.outbox,
        topics.SUBMISSIONS,
        [make_event(SUBMISSION_RECEIVED, content, source=SOURCE, province=province, time=now)],
    )
    return Receipt(id=submission_id, version=1, received_at=now, status="received")


async def amend(
    session: AsyncSession, *, principal: Principal, submission_id: uuid.UUID, body: AmendmentIn, now: datetime
) -> Receipt:
    """Store a new version of a unit's report (version + 1), unless its period is locked."""
    row = (
        await session.execute(select(orm.submissions).where(orm.submissions.c.id == submission_id).with_for_update())
    ).first()
    if row is None:
        raise NotFound(f"No submission {submission_id}.")
    if not principal.may_submit_for(row.province, row.unit):
        raise Forbidden("Only the unit's own reporter account or API token can amend its report.")
    if body.base_version is not None and body.base_version != row.version:
        raise Conflict(
            f"The report is at version {row.version}, not {body.base_version}; reload it and amend again.",
            {"current_version": row.version},
        )
    plan = await _plan_for(session, row.province, row.plan_id, row.unit)
    _raise_if(rules.check_content(plan, body.values, body.narratives))
    await _refuse_if_locked(session, row.province, row.plan_id, row.period)
    narratives = rules.clean_narratives(body.narratives)
    version = row.version + 1
    await session.execute(
        orm.submissions.update()
        .where(orm.submissions.c.id == submission_id)
        .values(
            version=version, values=body.values, narratives=narratives, received_at=now, submitted_by=principal.subject
        )
    )
    content = SubmissionV1(
        submission_id=submission_id,
        province=row.province,
        unit=row.unit,
        plan_id=row.plan_id,
        period=row.period,
        version=version,
        values=body.values,
        narratives=narratives,
        received_at=now,
        first_received_at=row.first_received_at,
        submitted_by=principal.subject,
    )
    diff = rules.changes(row.values, row.narratives, body.values, narratives)
    await _record_version(session, content, diff, "submission.amended")
    await enqueue(
        session,
        orm.outbox,
        topics.SUBMISSIONS,
        [make_event(SUBMISSION_AMENDED, content, source=SOURCE, province=row.province, time=now)],
    )
    return Receipt(id=submission_id, version=version, received_at=now, status="amended")


async def get(session: AsyncSession, *, principal: Principal, submission_id: uuid.UUID) -> SubmissionOut:
    row = (await session.execute(select(orm.submissions).where(orm.submissions.c.id == submission_id))).first()
    if row is None:
        raise NotFound(f"No submission {submission_id}.")
    if not principal.may_read_unit(row.province, row.unit):
        raise Forbidden("This account may not read that unit's reports.")
    history = await session.execute(
        select(orm.submission_versions)
        .where(orm.submission_versions.c.submission_id == submission_id)
        .order_by(orm.submission_versions.c.version)
    )
    out = await _out(session, row)
    out.history = [
        VersionOut(version=h.version, received_at=h.received_at, submitted_by=h.submitted_by, changes=h.changes)
        for h in history
    ]
    return out


async def search(
    session: AsyncSession,
    *,
    principal: Principal,
    province: str | None,
    unit: str | None,
    period: str | None,
    plan_id: str | None,
    limit: int,
) -> list[SubmissionOut]:
    """Submissions the caller may read, newest period first."""
    if principal.role is Role.REPORTER:
        if (province and province != principal.province) or (unit and unit != principal.unit):
            raise Forbidden("A reporter reads only its own unit's reports.")
        province, unit = principal.province, principal.unit
    elif principal.role is Role.PROVINCE_OPERATOR:
        if province and province != principal.province:
            raise Forbidden("An operator reads only its own province's reports.")
        province = principal.province
    s = orm.submissions.c
    query = select(orm.submissions)
    for column, value in ((s.province, province), (s.unit, unit), (s.period, period), (s.plan_id, plan_id)):
        if value:
            query = query.where(column == value)
    rows = await session.execute(query.order_by(s.period.desc(), s.province, s.unit).limit(limit))
    return [await _out(session, r) for r in rows]


async def _out(session: AsyncSession, row: Any) -> SubmissionOut:
    return SubmissionOut(
        id=row.id,
        province=row.province,
        plan_id=row.plan_id,
        unit=row.unit,
        period=row.period,
        version=row.version,
        values=row.values,
        narratives=row.narratives,
        first_received_at=row.first_received_at,
        received_at=row.received_at,
        submitted_by=row.submitted_by,
        locked=await is_locked(session, row.province, row.plan_id, row.period),
    )


# A unit's first report; the unique (province, plan, unit, period) turns a second one into no row.
_INSERT_FIRST_VERSION = (
    insert(orm.submissions)
    .on_conflict_do_nothing(constraint="uq_submissions_unit_period")
    .returning(orm.submissions.c.id)
)


async def _plan_holders(session: AsyncSession, plan_id: str, period: str) -> list[Any]:
    """In one query, each province holding a plan of this id, with the plan, the province and whether the
    period is locked there (a submission reads all three before it writes)."""
    p, province, lock = orm.plans.c, orm.provinces.c, orm.period_locks.c
    locked = exists().where(lock.province == p.province, lock.plan_id == p.id, lock.period == period)
    rows = await session.execute(
        select(p.province, p.doc, province.doc.label("province_doc"), locked.label("locked"))
        .join(orm.provinces, province.code == p.province)
        .where(p.id == plan_id)
        .order_by(p.province)
    )
    return rows.all()


async def _plan_for(session: AsyncSession, province: str, plan_id: str, unit: str):
    return _usable_plan(province, plan_id, unit, await catalog.get_plan(session, province, plan_id))


def _usable_plan(province: str, plan_id: str, unit: str, plan: PlanV1 | None) -> PlanV1:
    """The plan, when it is in force and the unit reports under it; else 422 naming the field."""
    if plan is None or not plan.active:
        raise Unprocessable(
            "Unknown plan.",
            [
                {
                    "loc": ["body", "plan_id"],
                    "msg": f"Tỉnh {province} không có kế hoạch {plan_id!r}.",
                    "type": "unknown_plan",
                }
            ],
        )
    if unit not in plan.units:
        raise Unprocessable(
            "The unit does not report under this plan.",
            [
                {
                    "loc": ["body", "unit"],
                    "msg": f"Đơn vị {unit} không thuộc kế hoạch {plan.number}.",
                    "type": "unit_not_in_plan",
                }
            ],
        )
    return plan


def _raise_if(problems: list[rules.FieldProblem]) -> None:
    if problems:
        raise Unprocessable("The report does not match the plan's template.", [p.as_dict() for p in problems])


async def is_locked(session: AsyncSession, province: str, plan_id: str, period: str) -> bool:
    p = orm.period_locks.c
    return bool(
        await session.scalar(
            select(exists().where(and_(p.province == province, p.plan_id == plan_id, p.period == period)))
        )
    )


async def _refuse_if_locked(session: AsyncSession, province: str, plan_id: str, period: str) -> None:
    if await is_locked(session, province, plan_id, period):
        raise _period_locked(province, plan_id, period)


def _period_locked(province: str, plan_id: str, period: str) -> Conflict:
    return Conflict(
        f"Period {period} is locked: its consolidated report was published. Ask the province's operator "
        "to reopen it before amending.",
        {"province": province, "plan_id": plan_id, "period": period},
    )


async def _record_version(session: AsyncSession, content: SubmissionV1, diff: dict, action: str) -> None:
    # Values as parameters of a fixed statement: SQLAlchemy reuses its compiled form without walking them.
    await session.execute(
        orm.submission_versions.insert(),
        {
            "submission_id": content.submission_id,
            "version": content.version,
            "values": content.values,
            "narratives": content.narratives,
            "received_at": content.received_at,
            "submitted_by": content.submitted_by,
            "changes": diff,
        },
    )
    await session.execute(
        orm.audit_log.insert(),
        {
            "at": content.received_at,
            "actor": content.submitted_by or "?",
            "action": action,
            "subject": f"submission:{content.submission_id}",
            "details": {
                "province": content.province,
                "unit": content.unit,
                "period": content.period,
                "version": content.version,
                "changes": diff,
            },
        },
    )
