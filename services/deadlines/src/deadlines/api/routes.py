"""HTTP adapter of deadlines: the compliance figures and manual nudges (v1 contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from baocao_shared.http.deps import CurrentPrincipal, Now, require
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from deadlines.deps import Uow
from deadlines.handlers import compliance, nudges
from deadlines.handlers.nudges import NudgeIn

router = APIRouter(tags=["compliance"])


Operator = Annotated[Principal, Depends(require(Role.PROVINCE_OPERATOR, Role.ADMIN))]


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


@router.get(
    "/v1/compliance",
    response_model=Compliance,
    responses=error_responses(403, 404, 422),
    summary="Who reported a period, on time or late",
    description="A period nobody owes is answered 404 with its standing in `details` (`state`: history, "
    "not_open or outside_plan; `tracking_from`; `opens_at`) and a Vietnamese message.",
)
async def get_compliance(
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    province: Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])],
    period: Annotated[str, Query(max_length=10, examples=["2019-06"])],
    plan_id: Annotated[str | None, Query(max_length=64)] = None,
):
    async with uow:
        return await compliance.compliance(
            uow, principal=principal, province=province, plan_id=plan_id, period=period, now=now
        )


@router.post(
    "/v1/nudges", status_code=202, responses=error_responses(403, 404), summary="Urge chosen units by hand (đôn đốc)"
)
async def post_nudge(body: NudgeIn, principal: Operator, uow: Uow, now: Now):
    async with uow:
        return await nudges.nudge(uow, principal=principal, order=body, now=now)
