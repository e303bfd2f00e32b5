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
from intake.domain.entry import entry_for
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


async def unit_of(uow: IntakeUnitOfWork, *, principal: Principal, unit: str | None = None) -> tuple[ProvinceV1, UnitV1]:
    """The reporter's own province and unit, as the catalogue holds them; for the province's office entering a
    report on its behalf, `unit` of the office's province (another unit or province is a 403 by name)."""
    province_code, code = principal.province or "", unit if unit is not None else principal.unit or ""
    entry_for(principal, province=province_code, unit=code)
    province = await uow.catalog.province(province_code)
    found = await uow.catalog.unit(province_code, code)
    if province is None or found is None:
        raise UnitNotInCatalogue(province=province_code, unit=code)
    return province, found


async def office_units(uow: IntakeUnitOfWork, *, principal: Principal) -> list[UnitV1]:
    """The units the province's office may enter a report for: its province's units that report under one of its
    plans in force (a retired one too: its past periods may still want an entry, under an exception)."""
    province = principal.province or ""
    entry_for(principal, province=province, unit="")
    reporting = {code for plan in await uow.catalog.plans(province) for code in plan.units}
    return [u for u in await uow.catalog.units(province) if u.code in reporting]


async def unit_plans(uow: IntakeUnitOfWork, *, principal: Principal, unit: str | None = None) -> list[UnitPlan]:
    """The plans in force the unit reports under, with its reports, the locked periods and the closed ones it has
    an exception for (the reporter's own unit, or `unit` for its province's office)."""
    province, found_unit = await unit_of(uow, principal=principal, unit=unit)
    found = []
    for plan in await _plans_of_unit(uow, province.code, found_unit.code):
        stored = await submissions.search(
            uow, principal=principal, province=province.code, unit=found_unit.code, plan_id=plan.id, limit=1000
        )
        locked = await uow.locks.locked_periods(province.code, plan.id)
        excepted = await uow.exceptions.periods_of_unit(province=province.code, plan_id=plan.id, unit=found_unit.code)
        found.append(UnitPlan(plan, {s.period: s for s in stored}, locked, excepted))
    return found


async def unit_report(
    uow: IntakeUnitOfWork, *, principal: Principal, plan_id: str, period: str, now: datetime, unit: str | None = None
) -> UnitReport:
    """The unit (the reporter's own, or `unit` for its province's office), one of its plans and a period open to
    reports, with what is stored for it."""
    province, found_unit = await unit_of(uow, principal=principal, unit=unit)
    plan = next((p for p in await _plans_of_unit(uow, province.code, found_unit.code) if p.id == plan_id), None)
    if plan is None:
        raise PlanNotForUnit(plan_id=plan_id, unit=found_unit.code)
    standing, problems = rules.check_period(plan, period, province.timezone, now)
    if problems:
        raise PeriodNotReportable(period=period, reason=problems[0].msg)
    found = await submissions.search(
        uow, principal=principal, province=province.code, unit=found_unit.code, period=period, plan_id=plan_id, limit=1
    )
    existing = found[0] if found else None
    locked = existing.locked if existing else await uow.locks.is_locked(province.code, plan_id, period)
    try:  # the same refusals a submission would get, shown before the unit types anything
        await submissions.refuse_if_not_in_force(uow, found_unit, period)
        await submissions.unit_may_report(uow, province.code, found_unit.code, standing, province.timezone)
        refused = None
    except (Conflict, Forbidden) as exc:
        refused = exc.message
    return UnitReport(province, found_unit, plan, period, existing, locked, refused)


async def receipt(
    uow: IntakeUnitOfWork, *, principal: Principal, submission_id: uuid.UUID
) -> tuple[SubmissionOut, ProvinceV1 | None, PlanV1 | None]:
    """A report the caller may read, with its province and plan."""
    submission = await submissions.get(uow, principal=principal, submission_id=submission_id)
    province = await uow.catalog.province(submission.province)
    return submission, province, await uow.catalog.plan(submission.province, submission.plan_id)


async def _plans_of_unit(uow: IntakeUnitOfWork, province: str, unit: str) -> list[PlanV1]:
    return [p for p in await uow.catalog.plans(province) if unit in p.units]
