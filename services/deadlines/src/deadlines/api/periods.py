"""Where a plan's periods stand, as deadlines sees them: the shared PeriodOut that intake and consolidation answer
too, computed by baocao_shared.periods over deadlines' own copy of the plan and the province's time zone."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import APIRouter, Path, Query

from baocao_shared.http.deps import CurrentPrincipal, Now
from baocao_shared.http.errors import error_responses
from baocao_shared.periods_api import PeriodOut
from deadlines.deps import Uow
from deadlines.handlers import periods

router = APIRouter(tags=["periods"])

Province = Annotated[str, Path(pattern=r"^\d{2}$", examples=["30"])]
PlanId = Annotated[
    str | None, Query(max_length=64, description="Needed only when the province has several active plans")
]


@router.get(
    "/v1/periods/{province}",
    response_model=list[PeriodOut],
    responses=error_responses(404, 422),
    summary="Every period of a plan, oldest first, and where each stands",
)
async def list_periods(principal: CurrentPrincipal, uow: Uow, now: Now, province: Province, plan_id: PlanId = None):
    async with uow:
        found = await periods.periods_of(uow, province=province, plan_id=plan_id, now=now)
    return [PeriodOut.of(province, standing) for standing in found]


@router.get(
    "/v1/periods/{province}/{period}",
    response_model=PeriodOut,
    responses=error_responses(404, 422),
    summary="Where one period of a plan stands: history, not open, open, overdue or closed",
)
async def get_period(
    principal: CurrentPrincipal,
    uow: Uow,
    now: Now,
    province: Province,
    period: Annotated[str, Path(max_length=10, examples=["2019-06"])],
    plan_id: PlanId = None,
):
    async with uow:
        found = await periods.period_of(uow, province=province, plan_id=plan_id, period=period, now=now)
    return PeriodOut.of(province, found)
