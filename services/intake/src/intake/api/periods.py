"""HTTP adapter of a plan's periods: where each stands (the shared PeriodOut), the office's exceptions to a closed
period, the import of a history period's reports, and the province's start of tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from baocao_shared.events.catalog import PERIOD_MONTH, PlanV1
from baocao_shared.http.deps import Now
from baocao_shared.http.errors import error_responses
from baocao_shared.periods_api import PeriodOut
from intake.deps import CurrentPrincipal, Uow
from intake.domain.models import ImportIn, Receipt
from intake.handlers import periods as use_cases

router = APIRouter(tags=["periods"])
ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$", examples=["30"])]
PeriodCode = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$", examples=["2019-06"])]
PlanId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", examples=["hd-467-2019"])]
UnitCode = Annotated[str, Path(max_length=40, examples=["CA"])]
PlanQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
        description="The plan; may be left out when the province has one plan in force",
        examples=["hd-467-2019"],
    ),
]
PERIOD = "/v1/periods/{province}/{period}"


class ExceptionIn(BaseModel):
    unit: str = Field(max_length=40, examples=["CA"])
    reason: str = Field(max_length=500, examples=["Đơn vị gửi bổ sung theo chỉ đạo của Trưởng ban"])


class ExceptionOut(BaseModel):
    province: str
    plan_id: str
    period: str
    unit: str
    reason: str
    granted_by: str
    granted_at: datetime


class TrackingIn(BaseModel):
    from_: str = Field(alias="from", pattern=PERIOD_MONTH, examples=["2024-01"])


@router.get(
    "/v1/periods/{province}",
    response_model=list[PeriodOut],
    responses=error_responses(404),
    summary="The plan's periods up to the one open now, oldest first, each with where it stands",
)
async def list_periods(province: ProvinceCode, _: CurrentPrincipal, uow: Uow, now: Now, plan_id: PlanQuery = None):
    async with uow:
        found = await use_cases.plan_periods(uow, province=province, plan_id=plan_id, now=now)
    return [PeriodOut.of(province, p) for p in found]


@router.get(
    PERIOD,
    response_model=PeriodOut,
    responses=error_responses(404),
    summary="Where one period of a plan stands: outside the plan, history, not open, open, overdue or closed",
)
async def get_period(
    province: ProvinceCode, period: PeriodCode, _: CurrentPrincipal, uow: Uow, now: Now, plan_id: PlanQuery = None
):
    async with uow:
        found = await use_cases.period_standing(uow, province=province, plan_id=plan_id, period=period, now=now)
    return PeriodOut.of(province, found)


@router.post(
    PERIOD + "/exceptions",
    status_code=201,
    response_model=ExceptionOut,
    responses={**error_responses(403, 404), 409: {"description": "The period is not closed"}},
    summary="Let one unit report or amend a closed period (the province's operators, admins; audited)",
)
async def grant_exception(
    province: ProvinceCode,
    period: PeriodCode,
    body: ExceptionIn,
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    plan_id: PlanQuery = None,
):
    async with uow:
        return await use_cases.grant_exception(
            uow, principal=principal, province=province, plan_id=plan_id, period=period, unit=body.unit,
            reason=body.reason, now=now,
        )  # fmt: skip


@router.get(
    PERIOD + "/exceptions",
    response_model=list[ExceptionOut],
    responses=error_responses(403, 404),
    summary="The units allowed to report a closed period",
)
async def list_exceptions(
    province: ProvinceCode, period: PeriodCode, principal: CurrentPrincipal, uow: Uow, plan_id: PlanQuery = None
):
    async with uow:
        return await use_cases.exceptions(uow, principal=principal, province=province, plan_id=plan_id, period=period)


@router.delete(
    PERIOD + "/exceptions/{unit}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Revoke a unit's exception (audited)",
)
async def revoke_exception(
    province: ProvinceCode,
    period: PeriodCode,
    unit: UnitCode,
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    plan_id: PlanQuery = None,
):
    async with uow:
        await use_cases.revoke_exception(
            uow, principal=principal, province=province, plan_id=plan_id, period=period, unit=unit, now=now
        )
    return Response(status_code=204)


@router.post(
    PERIOD + "/imports",
    status_code=201,
    response_model=Receipt,
    responses={
        **error_responses(403, 404),
        409: {"description": "The period is not history (it is tracked: the unit reports it itself)"},
        422: {"description": "The report does not match the template; `details` lists each field"},
    },
    summary="Import a unit's report for a history period on its behalf (the province's operators, admins)",
)
async def import_history(
    province: ProvinceCode,
    period: PeriodCode,
    body: ImportIn,
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    plan_id: PlanQuery = None,
):
    async with uow:
        return await use_cases.import_history(
            uow, principal=principal, province=province, plan_id=plan_id, period=period, body=body, now=now
        )


@router.put(
    "/v1/plans/{province}/{plan_id}/tracking",
    response_model=PlanV1,
    responses=error_responses(403, 404),
    summary="Set the province's start of tracking of a plan: periods before it are history (audited, republished)",
)
async def set_tracking(
    province: ProvinceCode, plan_id: PlanId, body: TrackingIn, principal: CurrentPrincipal, uow: Uow, now: Now
):
    async with uow:
        return await use_cases.set_tracking(
            uow, principal=principal, province=province, plan_id=plan_id, tracking_from=body.from_, now=now
        )
