"""HTTP adapter of an account's access (admin): deactivate, reactivate. Each ends or restores the account's
sign-in, and a deactivation stops its tokens on every service within seconds (baocao_shared.token_access)."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from fastapi import APIRouter
from pydantic import BaseModel, Field

from baocao_shared.http.errors import error_responses
from intake.deps import AccountName, Admin, Auth, Uow
from intake.handlers import account_access

router = APIRouter(tags=["accounts"])


class AccountAccessOut(BaseModel):
    username: str
    active: bool
    changed: bool = Field(description="False when the account already was so (the call changed nothing)")


@router.post(
    "/v1/admin/accounts/{username}/deactivate",
    response_model=AccountAccessOut,
    responses=error_responses(403, 404, 409),
    summary="Deactivate an account (admin): no more sign-in, and its tokens stop working on every service",
    description="Idempotent. 409 for the admin's own account (another admin deactivates it).",
)
async def deactivate_account(username: AccountName, admin: Admin, uow: Uow, auth: Auth):
    async with uow:
        changed = await account_access.deactivate_account(
            uow, username=username, actor=admin.subject, now=auth.clock.now()
        )
    return AccountAccessOut(username=username, active=False, changed=changed)


@router.post(
    "/v1/admin/accounts/{username}/reactivate",
    response_model=AccountAccessOut,
    responses=error_responses(403, 404),
    summary="Reactivate an account (admin): it may sign in again; tokens of before stay refused",
    description="Idempotent.",
)
async def reactivate_account(username: AccountName, admin: Admin, uow: Uow, auth: Auth):
    async with uow:
        changed = await account_access.reactivate_account(
            uow, username=username, actor=admin.subject, now=auth.clock.now()
        )
    return AccountAccessOut(username=username, active=True, changed=changed)
