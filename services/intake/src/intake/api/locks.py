"""Period locks: a published period refuses amendments until an audited reopen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from baocao_shared.auth import Principal, Role
from intake.api.common import Now
from intake.api.deps import Db, require_roles
from intake.handlers import locks as use_cases

router = APIRouter(prefix="/v1/admin/locks", tags=["period locks"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class LockIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["Báo cáo tổng hợp đã phát hành"])


@router.put("/{province}/{plan_id}/{period}", summary="Lock a period (amendments get 409)")
async def lock(province: str, plan_id: str, period: str, body: LockIn, admin: Admin, db: Db, now: Now):
    async with db.begin():
        return await use_cases.lock(
            db, province=province, plan_id=plan_id, period=period, actor=admin.subject, reason=body.reason, now=now
        )


@router.delete("/{province}/{plan_id}/{period}", summary="Reopen a locked period (audited)")
async def reopen(province: str, plan_id: str, period: str, body: LockIn, admin: Admin, db: Db, now: Now):
    async with db.begin():
        return await use_cases.reopen(
            db, province=province, plan_id=plan_id, period=period, actor=admin.subject, reason=body.reason, now=now
        )
