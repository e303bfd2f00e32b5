"""Use cases behind a unit's web form: its plans and periods, one period's report, a receipt.

What a reporter may see is decided here (and in `submissions`), so the pages only lay the answers out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from baocao_shared.errors import Conflict, Forbidden
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.principal import Principal
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain import submissions as rules
from intake.domain.errors import PeriodNotReportable, PlanNotForUnit, UnitNotInCatalogue
from intake.domain.models import SubmissionOut
from intake.handlers import submissions


@dataclass
class UnitPlan:
    """One of the unit's plans, with the unit's reports under it by period and the plan's locked periods."""

    plan: PlanV1
    submitted: dict[str, SubmissionOut]
    locked: set[str]
    excepted: set[str]  # the closed periods the office let the unit still report


@dataclass
class UnitReport:
    """A unit's plan and one of its periods, with the report stored for it (if any)."""

    province: ProvinceV1
    unit: UnitV1
    plan: PlanV1
    period: str
    existing: SubmissionOut | None
    locked: bool
    refused: str | None = None  # why the unit may not send it now (closed, history, the unit retired), if so


async def unit_of(uow: IntakeUnitOfWork, *, principal: Principal) -> tuple[ProvinceV1, UnitV1]:
    """The reporter's province and unit, as the catalogue holds them."""
    province = await uow.catalog.province(principal.province or "")
    unit = await uow.catalog.unit(principal.province or "", principal.unit or "")
    if province is None or unit is None:
        raise UnitNotInCatalogue(province=principal.province, unit=principal.unit)
    return province, unit


async def unit_plans(uow: IntakeUnitOfWork, *, principal: Principal) -> list[UnitPlan]:
    """The plans in force the reporter's unit reports under, with its reports, the locked periods and the closed
    ones it has an exception for."""
    found = []
    for plan in await _plans_of_unit(uow, principal):
        stored = await submissions.search(uow, principal=principal, plan_id=plan.id, limit=1000)
        locked = await uow.locks.locked_periods(principal.province or "", plan.id)
        excepted = await uow.exceptions.periods_of_unit(
            province=principal.province or "", plan_id=plan.id, unit=principal.unit or ""
        )
        found.append(UnitPlan(plan, {s.period: s for s in stored}, locked, excepted))
    return found


async def unit_report(
    uow: IntakeUnitOfWork, *, principal: Principal, plan_id: str, period: str, now: datetime
) -> UnitReport:
    """The reporter's unit, one of its plans and a period open to reports, with what is stored for it."""
    province, unit = await unit_of(uow, principal=principal)
    plan = next((p for p in await _plans_of_unit(uow, principal) if p.id == plan_id), None)
    if plan is None:
        raise PlanNotForUnit(plan_id=plan_id, unit=principal.unit)
    standing, problems = rules.check_period(plan, period, province.timezone, now)
    if problems:
        raise PeriodNotReportable(period=period, reason=problems[0].msg)
    found = await submissions.search(uow, principal=principal, period=period, plan_id=plan_id, limit=1)
    existing = found[0] if found else None
    locked = existing.locked if existing else await uow.locks.is_locked(province.code, plan_id, period)
    try:  # the same refusals a submission would get, shown before the unit types anything
        await submissions.refuse_if_not_in_force(uow, unit, period)
        await submissions.unit_may_report(uow, province.code, unit.code, standing, province.timezone)
        refused = None
    except (Conflict, Forbidden) as exc:
        refused = exc.message
    return UnitReport(province, unit, plan, period, existing, locked, refused)


async def receipt(
    uow: IntakeUnitOfWork, *, principal: Principal, submission_id: uuid.UUID
) -> tuple[SubmissionOut, ProvinceV1 | None, PlanV1 | None]:
    """A report the caller may read, with its province and plan."""
    submission = await submissions.get(uow, principal=principal, submission_id=submission_id)
    province = await uow.catalog.province(submission.province)
    return submission, province, await uow.catalog.plan(submission.province, submission.plan_id)


async def _plans_of_unit(uow: IntakeUnitOfWork, principal: Principal) -> list[PlanV1]:
    return [p for p in await uow.catalog.plans(principal.province or "") if principal.unit in p.units]
