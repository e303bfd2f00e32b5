"""Use cases of a plan's periods: where each stands, the office's exceptions to a closed period, the import of
a history period's reports, and the province's start of tracking.

Where a period stands is `baocao_shared.periods.standing`, the one answer every service gives. The caller owns
the transaction: these functions never commit.
"""

from __future__ import annotations

import re
from datetime import datetime

from baocao_shared import periods
from baocao_shared.calendar import PeriodError
from baocao_shared.events.catalog import PERIOD_MONTH, PLAN_UPSERTED, PlanV1, ProvinceV1
from baocao_shared.principal import Principal
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain import submissions as rules
from intake.domain.errors import (
    ExceptionNotFound,
    MayNotOperateProvince,
    PeriodMalformed,
    PlanNotFound,
    ProvinceNotFound,
    ReasonRequired,
    UnknownUnit,
)
from intake.domain.models import ImportIn, Receipt
from intake.handlers import submissions


async def plan_of(uow: IntakeUnitOfWork, province: str, plan_id: str | None) -> tuple[ProvinceV1, PlanV1]:
    """The province and the plan in force the request names, or the province's only one."""
    place = await uow.catalog.province(province)
    if place is None:
        raise ProvinceNotFound(province)
    plans = await uow.catalog.plans(province)
    if plan_id:
        found = next((p for p in plans if p.id == plan_id), None)
        if found is None:
            raise PlanNotFound(province=province, plan_id=plan_id)
        return place, found
    if len(plans) != 1:
        raise PlanNotFound(province=province, plan_id=None, choices=[p.id for p in plans])
    return place, plans[0]


async def period_standing(
    uow: IntakeUnitOfWork, *, province: str, plan_id: str | None, period: str, now: datetime
) -> periods.PeriodStanding:
    """Where one period of the plan stands now."""
    place, plan = await plan_of(uow, province, plan_id)
    return _standing(plan, period, place.timezone, now)


async def plan_periods(
    uow: IntakeUnitOfWork, *, province: str, plan_id: str | None, now: datetime
) -> list[periods.PeriodStanding]:
    """Every period of the plan from its first to the one open now, oldest first."""
    place, plan = await plan_of(uow, province, plan_id)
    return periods.plan_periods(plan, place.timezone, now)


def _standing(plan: PlanV1, period: str, timezone: str, now: datetime) -> periods.PeriodStanding:
    try:
        return periods.standing(plan, period, timezone, now)
    except PeriodError:
        raise PeriodMalformed(period=period) from None


# ----------------------------------------------------------------------------- exceptions to a closed period


async def grant_exception(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    unit: str,
    reason: str,
    now: datetime,
) -> dict:
    """Let one unit report (or amend) a closed period: the province's operators and admins, with a reason."""
    place, plan = await _operated_plan(uow, principal, province, plan_id)
    if unit not in plan.units or not await uow.catalog.has_unit(province, unit):
        raise UnknownUnit(province=province, unit=unit)
    if not reason.strip():
        raise ReasonRequired()
    rules.may_grant_exception(_standing(plan, period, place.timezone, now))
    reason = reason.strip()
    where = {"province": province, "plan_id": plan.id, "period": period, "unit": unit}
    await uow.exceptions.grant(**where, reason=reason, by=principal.subject, at=now)
    await uow.audit(
        at=now,
        actor=principal.subject,
        action="period.exception_granted",
        subject=f"period:{province}.{plan.id}.{period}",
        details={"province": province, "unit": unit, "reason": reason},
    )
    return {**where, "reason": reason, "granted_by": principal.subject, "granted_at": now}


async def exceptions(
    uow: IntakeUnitOfWork, *, principal: Principal, province: str, plan_id: str | None, period: str
) -> list[dict]:
    """The period's exceptions, by unit: for those who oversee the province (its operators, the national office,
    admins)."""
    if not principal.oversees(province):
        raise MayNotOperateProvince(province)
    _, plan = await plan_of(uow, province, plan_id)
    found = await uow.exceptions.of_period(province=province, plan_id=plan.id, period=period)
    return [{"province": province, "plan_id": plan.id, "period": period, **row} for row in found]


async def revoke_exception(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    unit: str,
    now: datetime,
) -> None:
    """Take a unit's exception back; ExceptionNotFound when it has none."""
    _, plan = await _operated_plan(uow, principal, province, plan_id)
    where = {"province": province, "plan_id": plan.id, "period": period, "unit": unit}
    if not await uow.exceptions.revoke(**where):
        raise ExceptionNotFound(**where)
    await uow.audit(
        at=now,
        actor=principal.subject,
        action="period.exception_revoked",
        subject=f"period:{province}.{plan.id}.{period}",
        details={"province": province, "unit": unit},
    )


# ----------------------------------------------------------------------------- history and the start of tracking


async def import_history(
    uow: IntakeUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    body: ImportIn,
    now: datetime,
) -> Receipt:
    """The office's import of a unit's report for a history period, on its behalf."""
    place, plan = await _operated_plan(uow, principal, province, plan_id)
    return await submissions.import_report(
        uow, principal=principal, province=province, plan=plan, timezone=place.timezone, period=period, body=body,
        now=now,
    )  # fmt: skip


async def set_tracking(
    uow: IntakeUnitOfWork, *, principal: Principal, province: str, plan_id: str, tracking_from: str, now: datetime
) -> PlanV1:
    """Set the province's start of tracking of a plan (periods before it are history); publish the plan again."""
    _, plan = await _operated_plan(uow, principal, province, plan_id)
    changed = plan.model_copy(update={"tracking_from": tracking_from})
    doc = changed.model_dump(mode="json")
    if doc != plan.model_dump(mode="json"):
        await uow.catalog.upsert(changed, doc, now)
        await uow.publish(PLAN_UPSERTED, [changed], province=province, at=now)
        await uow.audit(
            at=now,
            actor=principal.subject,
            action="plan.tracking_set",
            subject=f"plan:{province}.{plan.id}",
            details={"province": province, "from": plan.tracking_from, "to": tracking_from},
        )
    return changed


async def track_recent(
    uow: IntakeUnitOfWork, *, principal: Principal, province: str, periods_back: int, keep: bool, now: datetime
) -> list[PlanV1]:
    """Start tracking each plan in force of the province at the first of its `periods_back` last due periods (those
    `demo history --periods N` fills), so older ones are history; with `keep`, a start already set stays."""
    place = await uow.catalog.province(province)
    if place is None:
        raise ProvinceNotFound(province)
    changed = []
    for plan in await uow.catalog.plans(province):
        recent = periods.past_periods(plan, place.timezone, now, periods_back)
        # tracking_from names a month: a plan of quarters or half-years is left as it is.
        if not recent or not re.fullmatch(PERIOD_MONTH, recent[0]) or (keep and plan.tracking_from):
            changed.append(plan)
            continue
        start = recent[0]
        changed.append(
            await set_tracking(
                uow, principal=principal, province=province, plan_id=plan.id, tracking_from=start, now=now
            )
        )
    return changed


async def _operated_plan(
    uow: IntakeUnitOfWork, principal: Principal, province: str, plan_id: str | None
) -> tuple[ProvinceV1, PlanV1]:
    if not principal.may_operate_province(province):
        raise MayNotOperateProvince(province)
    return await plan_of(uow, province, plan_id)
