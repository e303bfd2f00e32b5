"""HTTP adapter of deadlines: the compliance figures and manual nudges (v1 contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from baocao_shared.http.deps import CurrentPrincipal, Now, require
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from deadlines.deps import Uow
from deadlines.domain.errors import ProvinceRequired
from deadlines.handlers import compliance, national_compliance, nudges
from deadlines.handlers.national_compliance import NationalNudgeIn
from deadlines.handlers.nudges import NudgeIn

router = APIRouter(tags=["compliance"])


Operator = Annotated[Principal, Depends(require(Role.PROVINCE_OPERATOR, Role.ADMIN))]
NationalOffice = Annotated[Principal, Depends(require(Role.NATIONAL_OPERATOR, Role.ADMIN))]


class UnitCompliance(BaseModel):
    unit: str
    unit_name: str
    status: str = Field(description="pending | on_time | late | missing")
    first_submitted_at: datetime | None
    late_by_s: int | None
    amended_after_due: bool
    after_close: bool = Field(
        description="Sent after the period's close under the office's exception: counted late (Nộp sau khóa sổ)"
    )


class Summary(BaseModel):
    expected: int
    on_time: int
    late: int
    missing: int
    pending: int
    reporting_rate: float
    on_time_rate: float


class Compliance(BaseModel):
    province: str
    plan_id: str
    period: str
    state: str = Field(description="open | overdue | closed (baocao_shared.periods)")
    final: bool = Field(description="The period is closed: missing is final")
    due_at: datetime
    closed_at: datetime | None
    summary: Summary
    units: list[UnitCompliance]


class ProvinceCompliance(BaseModel):
    unit: str = Field(description="The province's code")
    unit_name: str = Field(description="The province's name")
    plan_id: str
    due_at: datetime = Field(description="The province's deadline at the national office (province_due_day)")
    status: str = Field(description="pending | on_time | late | missing")
    first_submitted_at: datetime | None = Field(description="When the province first published its report")
    late_by_s: int | None


class NationalCompliance(BaseModel):
    level: Literal["national"]
    period: str
    plan_id: str | None = Field(description="The plan, when every province listed owes it under one")
    plan_ids: list[str]
    state: str = Field(description="open | overdue | closed (closed: every province's national close passed)")
    final: bool = Field(description="Every province's period is closed nationally: missing is final")
    due_at: datetime = Field(description="The provinces' deadline (the earliest, when their plans' differ)")
    closed_at: datetime | None
    summary: Summary
    units: list[ProvinceCompliance] = Field(description="The provinces, as a province's units")


@router.get(
    "/v1/compliance",
    response_model=Compliance | NationalCompliance,
    responses=error_responses(403, 404, 422),
    summary="Who reported a period, on time or late",
    description="`level=province` (the default): a province's units. A period nobody owes is answered 404 with its "
    "standing in `details` (`state`: history, not_open or outside_plan; `tracking_from`; `opens_at`) and a "
    "Vietnamese message. `level=national`: the provinces, each a reporting unit of the national office whose "
    "submission is its published report, due on the plan's province_due_day; for the national office and admins.",
)
async def get_compliance(
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    period: Annotated[str, Query(max_length=10, examples=["2019-06"])],
    province: Annotated[str | None, Query(pattern=r"^\d{2}$", examples=["30"])] = None,
    plan_id: Annotated[str | None, Query(max_length=64)] = None,
    plan: Annotated[str | None, Query(max_length=64, description="Same as plan_id")] = None,
    level: Annotated[Literal["province", "national"], Query()] = "province",
):
    async with uow:
        if level == "national":
            found = await national_compliance.national_compliance(
                uow, principal=principal, period=period, plan_id=plan_id or plan, now=now
            )
            return NationalCompliance.model_validate(found)
        if province is None:
            raise ProvinceRequired()
        return await compliance.compliance(
            uow, principal=principal, province=province, plan_id=plan_id or plan, period=period, now=now
        )


@router.post(
    "/v1/nudges", status_code=202, responses=error_responses(403, 404), summary="Urge chosen units by hand (đôn đốc)"
)
async def post_nudge(body: NudgeIn, principal: Operator, uow: Uow, now: Now):
    async with uow:
        return await nudges.nudge(uow, principal=principal, order=body, now=now)


@router.post(
    "/v1/nudges/national",
    status_code=202,
    responses=error_responses(403, 422),
    summary="The national office urges chosen provinces by hand (đôn đốc)",
    description="To each chosen province that has not published its report of the period (its operators are told); "
    "provinces that have are listed as `skipped`. A province that owes nothing for the period: 422.",
)
async def post_national_nudge(body: NationalNudgeIn, principal: NationalOffice, uow: Uow, now: Now):
    async with uow:
        return await national_compliance.nudge_provinces(uow, principal=principal, order=body, now=now)
