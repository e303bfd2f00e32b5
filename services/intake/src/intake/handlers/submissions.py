"""Use cases of a unit's report: submit, amend, read; each change goes out through the outbox.

The caller owns the transaction: these functions never commit, so the state change, its audit
row, its idempotency record and its event commit together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from baocao_shared import periods
from baocao_shared.calendar import period_month
from baocao_shared.errors import DomainError
from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.principal import Principal, Role
from baocao_shared.structure import in_force, next_month
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain import submissions as rules
from intake.domain.entry import Entry, entry_for, imported_by
from intake.domain.errors import (
    AlreadySubmitted,
    NotYourReport,
    NotYourUnit,
    PeriodLocked,
    PlanOfAnotherProvince,
    ProvinceNotNamed,
    ReportInvalid,
    ReportNotReadable,
    StaleVersion,
    SubmissionNotFound,
    UnitNotInForce,
    UnitNotInPlan,
    UnknownPlan,
    UnknownUnit,
)
from intake.domain.models import AmendmentIn, ImportIn, Receipt, Submission, SubmissionIn, SubmissionOut
from intake.handlers.idempotency import Answer, once


async def submit(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    body: SubmissionIn,
    now: datetime,
    submission_id: uuid.UUID | None = None,
) -> Receipt:
    """Accept a unit's first report for a period (version 1): from the unit's own account, or entered on its behalf
    by its province's office (`intake.domain.entry`)."""
    found = await uow.submissions.plan_holders(body.plan_id, body.period, body.unit)
    province = body.province or principal.province or (found[0].province if len(found) == 1 else "")
    if not province and found:  # an admin, and the plan id is held by several provinces
        raise ProvinceNotNamed(plan_id=body.plan_id, provinces=[h.province for h in found])
    entry = entry_for(principal, province=province, unit=body.unit, source=body.source)
    mine = next((h for h in found if h.province == province), None)
    if mine is None and found:
        raise PlanOfAnotherProvince(plan_id=body.plan_id, plan_province=found[0].province, own_province=province)
    plan = _usable_plan(province, body.plan_id, body.unit, mine.plan if mine else None)
    found, problems = rules.check_period(plan, body.period, mine.timezone, now)
    if found is not None:  # a period of the plan's frequency (a malformed one is a 422): is the unit in force in it?
        await refuse_if_not_in_force(uow, mine.unit, body.period)
    # A published report's period is locked first: no exception to the close lets a unit into it.
    if not problems and mine.locked:
        raise PeriodLocked(province=province, plan_id=plan.id, period=body.period)
    after_close = False
    if not problems:  # in the plan and open: history, or closed without the office's exception, is a 409
        after_close = await unit_may_report(uow, province, body.unit, found, mine.timezone)
    _refuse_if_invalid(problems + rules.check_content(plan, body.values, body.narratives))
    submission = Submission(
        id=submission_id or uuid.uuid4(),
        province=province,
        plan_id=plan.id,
        unit=body.unit,
        period=body.period,
        version=1,
        values=body.values,
        narratives=rules.clean_narratives(body.narratives),
        first_received_at=now,
        received_at=now,
        submitted_by=principal.subject,
        after_close=after_close,
        **_of_entry(entry),
    )
    first = {"figures": {}, "narratives": [], "first": True}
    if not await uow.submissions.add_first(submission, changes=first):
        where = {"province": province, "plan_id": plan.id, "unit": body.unit, "period": body.period}
        raise AlreadySubmitted(unit=body.unit, period=body.period, submission_id=await uow.submissions.id_for(**where))
    await _record(uow, submission, first, history_kept=True)
    return _receipt(submission)


async def amend(
    uow: IntakeUnitOfWork, *, principal: Principal, submission_id: uuid.UUID, body: AmendmentIn, now: datetime
) -> Receipt:
    """Store a new version of a unit's report (version + 1), unless its period is locked: from the unit's own
    account, or entered on its behalf by its province's office."""
    stored = await uow.submissions.get(submission_id, for_update=True)
    if stored is None:
        raise SubmissionNotFound(submission_id)
    try:
        entry = entry_for(principal, province=stored.province, unit=stored.unit, source=body.source)
    except NotYourUnit:
        raise NotYourReport() from None
    if body.base_version is not None and body.base_version != stored.version:
        raise StaleVersion(current_version=stored.version, base_version=body.base_version)
    plan = _usable_plan(
        stored.province, stored.plan_id, stored.unit, await uow.catalog.plan(stored.province, stored.plan_id)
    )
    await refuse_if_not_in_force(uow, await uow.catalog.unit(stored.province, stored.unit), stored.period)
    place = await uow.catalog.province(stored.province)
    timezone = place.timezone if place else "Asia/Ho_Chi_Minh"
    if await uow.locks.is_locked(stored.province, stored.plan_id, stored.period):
        raise PeriodLocked(province=stored.province, plan_id=stored.plan_id, period=stored.period)
    found = periods.standing(plan, stored.period, timezone, now)
    after_close = await unit_may_report(uow, stored.province, stored.unit, found, timezone)
    _refuse_if_invalid(rules.check_content(plan, body.values, body.narratives))
    narratives = rules.clean_narratives(body.narratives)
    amended = _next_version(
        stored, body.values, narratives, at=now, by=principal.subject, entry=entry, after_close=after_close
    )
    await uow.submissions.store_version(amended)
    await _record(uow, amended, rules.changes(stored.values, stored.narratives, body.values, narratives))
    return _receipt(amended)


async def import_report(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan: PlanV1,
    timezone: str,
    period: str,
    body: ImportIn,
    now: datetime,
) -> Receipt:
    """The office's import of a unit's report for a history period (before the start of tracking), on its behalf:
    the same content checks, stored as the report's next version, its event marked imported. The caller
    (`periods.import_history`) has checked that the principal operates the province."""
    if body.unit not in plan.units or not await uow.catalog.has_unit(province, body.unit):
        raise UnknownUnit(province=province, unit=body.unit)
    found, problems = rules.check_period(plan, period, timezone, now)
    if not problems:
        rules.office_may_import(found)
    _refuse_if_invalid(problems + rules.check_content(plan, body.values, body.narratives))
    if await uow.locks.is_locked(province, plan.id, period):
        raise PeriodLocked(province=province, plan_id=plan.id, period=period)
    where = {"province": province, "plan_id": plan.id, "unit": body.unit, "period": period}
    narratives = rules.clean_narratives(body.narratives)
    existing = await uow.submissions.id_for(**where)
    stored = await uow.submissions.get(existing, for_update=True) if existing else None
    if stored is None:
        submission = Submission(
            id=uuid.uuid4(),
            **where,
            version=1,
            values=body.values,
            narratives=narratives,
            first_received_at=now,
            received_at=now,
            submitted_by=principal.subject,
            imported=True,
            **_of_entry(imported_by(principal)),
        )
        diff = {"figures": {}, "narratives": [], "first": True}
        if not await uow.submissions.add_first(submission, changes=diff):  # a unit's own report won the race
            raise AlreadySubmitted(unit=body.unit, period=period, submission_id=await uow.submissions.id_for(**where))
    else:
        submission = _next_version(
            stored, body.values, narratives, at=now, by=principal.subject, entry=imported_by(principal), imported=True
        )
        await uow.submissions.store_version(submission)
        diff = rules.changes(stored.values, stored.narratives, body.values, narratives)
        await uow.submissions.add_history(submission, changes=diff)
    await _record(uow, submission, diff, history_kept=True)
    return _receipt(submission)


async def unit_may_report(
    uow: IntakeUnitOfWork, province: str, unit: str, found: periods.PeriodStanding, timezone: str
) -> bool:
    """Where the period stands (`found`) refuses a unit's report (history; closed without an exception) with a
    409; True when it is accepted after the close, under the office's exception."""
    excepted = found.state == "closed" and await uow.exceptions.has(
        province=province, plan_id=found.plan_id, period=found.period, unit=unit
    )
    return rules.unit_may_report(found, timezone=timezone, excepted=excepted)


async def submit_once(
    uow: IntakeUnitOfWork, *, principal: Principal, body: SubmissionIn, now: datetime, key: str | None
) -> Answer:
    """`submit`, once per Idempotency-Key: a repeat of the same request gets the first answer back."""
    request = _fingerprinted(body)
    submission_id = uuid.uuid4()
    run = lambda: submit(uow, principal=principal, body=body, now=now, submission_id=submission_id)  # noqa: E731
    expected = _expected_receipt(principal, body, now, submission_id)
    return await once(uow, owner=principal.subject, key=key, request=request, run=run, expected=expected)


def _expected_receipt(
    principal: Principal, body: SubmissionIn, now: datetime, submission_id: uuid.UUID
) -> Receipt | None:
    """The receipt `submit` gives if it accepts the report, when it can be told before (the province is named):
    stored with the Idempotency-Key's claim."""
    province = body.province or principal.province
    if not province:
        return None
    try:
        entry = entry_for(principal, province=province, unit=body.unit, source=body.source)
    except DomainError:
        return None  # submit refuses it the same way
    return Receipt(
        id=submission_id,
        version=1,
        received_at=now,
        status="received",
        channel=entry.channel,
        entered_by=entry.entered_by,
    )


async def amend_once(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    submission_id: uuid.UUID,
    body: AmendmentIn,
    now: datetime,
    key: str | None,
) -> Answer:
    """`amend`, once per Idempotency-Key (the web form sends one per form shown)."""
    request = {"submission_id": str(submission_id), **_fingerprinted(body)}
    return await once(
        uow,
        owner=principal.subject,
        key=key,
        request=request,
        run=lambda: amend(uow, principal=principal, submission_id=submission_id, body=body, now=now),
    )


def _fingerprinted(body: SubmissionIn | AmendmentIn) -> dict:
    """The request an Idempotency-Key stands for; the fields added with the office's entry (`province`, `source`)
    only when given, so a key stored before them still matches its request."""
    unset = {name for name in ("province", "source") if getattr(body, name, None) is None}
    return body.model_dump(mode="json", exclude=unset)


async def get(uow: IntakeUnitOfWork, *, principal: Principal, submission_id: uuid.UUID) -> SubmissionOut:
    """A report with every version, for those who may read its unit."""
    stored = await uow.submissions.get(submission_id)
    if stored is None:
        raise SubmissionNotFound(submission_id)
    if not principal.may_read_unit(stored.province, stored.unit):
        raise ReportNotReadable("This account may not read that unit's reports.")
    out = await _out(uow, stored)
    out.history = await uow.submissions.history(submission_id)
    return out


async def search(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    province: str | None = None,
    unit: str | None = None,
    period: str | None = None,
    plan_id: str | None = None,
    limit: int,
) -> list[SubmissionOut]:
    """Submissions the caller may read, newest period first."""
    if principal.role is Role.REPORTER:
        if (province and province != principal.province) or (unit and unit != principal.unit):
            raise ReportNotReadable("A reporter reads only its own unit's reports.")
        province, unit = principal.province, principal.unit
    elif principal.role is Role.PROVINCE_OPERATOR:
        if province and province != principal.province:
            raise ReportNotReadable("An operator reads only its own province's reports.")
        province = principal.province
    found = await uow.submissions.search(province=province, unit=unit, period=period, plan_id=plan_id, limit=limit)
    return [await _out(uow, s) for s in found]


async def _out(uow: IntakeUnitOfWork, stored: Submission) -> SubmissionOut:
    locked = await uow.locks.is_locked(stored.province, stored.plan_id, stored.period)
    return SubmissionOut(**stored.model_dump(), locked=locked)


async def refuse_if_not_in_force(uow: IntakeUnitOfWork, unit: UnitV1 | None, period: str) -> None:
    """A unit (as the catalogue holds it) reports only for periods it is in force in: a retired unit's account gets
    403 naming where its reporting went (it still reads its past reports). `period` is one of the plan's
    (check_period first)."""
    if unit is None or (unit.valid_from is None and unit.valid_to is None):
        return
    if in_force(unit, period):
        return
    successors = []
    for s in unit.successors:
        heir = await uow.catalog.unit(s.province, s.code or "") if s.code else None
        successors.append(f"{heir.name} ({s.province}.{s.code})" if heir else f"{s.province}.{s.code or ''}")
    ended = unit.valid_to is not None and unit.valid_to < period_month(period)
    raise UnitNotInForce(
        unit=unit.code,
        name=unit.name,
        period=period,
        ended_from=next_month(unit.valid_to) if ended and unit.valid_to else None,
        starts=unit.valid_from,
        successors=successors,
    )


def _usable_plan(province: str, plan_id: str, unit: str, plan: PlanV1 | None) -> PlanV1:
    """The plan, when it is in force and the unit reports under it; else 422 naming the field."""
    if plan is None or not plan.active:
        raise UnknownPlan(province=province, plan_id=plan_id)
    if unit not in plan.units:
        raise UnitNotInPlan(unit=unit, plan_number=plan.number)
    return plan


def _refuse_if_invalid(problems: list[rules.FieldProblem]) -> None:
    if problems:
        raise ReportInvalid([p.as_dict() for p in problems])


async def _record(uow: IntakeUnitOfWork, submission: Submission, diff: dict, *, history_kept: bool = False) -> None:
    """The version's history row (unless the caller wrote it: `history_kept`), its audit row and its event, in the
    caller's transaction."""
    first = submission.version == 1
    if not history_kept:
        await uow.submissions.add_history(submission, changes=diff)
    action = "submission.received" if first else "submission.amended"
    if submission.imported:
        action = "submission.imported"
    details = {
        "province": submission.province,
        "unit": submission.unit,
        "period": submission.period,
        "version": submission.version,
        "changes": diff,
    }
    if submission.after_close:
        details["after_close"] = True
    if submission.channel:
        details["channel"] = submission.channel
    if submission.entered_by:
        details["entered_by"] = submission.entered_by
    if submission.source:
        details["source"] = submission.source
    content = SubmissionV1(submission_id=submission.id, **submission.model_dump(exclude={"id", "source"}))
    spec = SUBMISSION_RECEIVED if first else SUBMISSION_AMENDED
    async with uow.together():  # the audit row and the event in one statement
        await uow.audit(
            at=submission.received_at,
            actor=submission.submitted_by or "?",
            action=action,
            subject=f"submission:{submission.id}",
            details=details,
        )
        await uow.publish(spec, content, province=submission.province, at=submission.received_at)


def _next_version(
    stored: Submission,
    values: dict[str, int],
    narratives: dict[str, str],
    *,
    at: datetime,
    by: str,
    entry: Entry,
    imported: bool = False,
    after_close: bool = False,
) -> Submission:
    """The report's next version, as sent by `by` at `at` (an amendment, or the office's import)."""
    return stored.model_copy(
        update={
            "version": stored.version + 1, "values": values, "narratives": narratives, "received_at": at,
            "submitted_by": by, "imported": imported, "after_close": after_close, **_of_entry(entry),
        }
    )  # fmt: skip


def _receipt(submission: Submission) -> Receipt:
    return Receipt(
        id=submission.id,
        version=submission.version,
        received_at=submission.received_at,
        status="received" if submission.version == 1 else "amended",
        channel=submission.channel,
        entered_by=submission.entered_by,
    )


def _of_entry(entry: Entry) -> dict[str, str | None]:
    return {"channel": entry.channel, "entered_by": entry.entered_by, "source": entry.source}
