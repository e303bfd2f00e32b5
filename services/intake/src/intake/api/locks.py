"""Period locks: a published period refuses amendments until an audited reopen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from baocao_shared.http.deps import Now
from baocao_shared.http.errors import error_responses
from intake.deps import Admin, Uow
from intake.handlers import locks as use_cases

router = APIRouter(prefix="/v1/admin/locks", tags=["period locks"])
# As the catalogue and the submissions spell them (and as period_locks' columns hold them): anything else is a 422.
ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$", examples=["30"])]
PlanId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", examples=["hd-467-2019"])]
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$", examples=["2019-06"])]


class LockIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["Báo cáo tổng hợp đã phát hành"])


@router.put(
    "/{province}/{plan_id}/{period}", responses=error_responses(403), summary="Lock a period (amendments get 409)"
)
async def lock(province: ProvinceCode, plan_id: PlanId, period: Period, body: LockIn, admin: Admin, uow: Uow, now: Now):
    async with uow:
        return await use_cases.lock(
            uow, province=province, plan_id=plan_id, period=period, actor=admin.subject, reason=body.reason, now=now
        )


@router.delete(
    "/{province}/{plan_id}/{period}", responses=error_responses(403, 404), summary="Reopen a locked period (audited)"
)
async def reopen(
    province: ProvinceCode, plan_id: PlanId, period: Period, body: LockIn, admin: Admin, uow: Uow, now: Now
):
    async with uow:
        return await use_cases.reopen(
            uow, province=province, plan_id=plan_id, period=period, actor=admin.subject, reason=body.reason, now=now
        )
