"""Use cases of an account's access: deactivate, reactivate, and revoke its tokens (on a password change).

Each change is kept in intake's `account_access` and published as `vn.baocao.account.access_changed.v1` in the
same transaction: every service then refuses the account's earlier tokens (baocao_shared.token_access). The
caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from baocao_shared.events.catalog import ACCOUNT_ACCESS_CHANGED, AccountAccessV1
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.account_errors import AccountNotFound, MayNotDeactivateSelf

Reason = Literal["deactivated", "reactivated", "password_changed"]


async def change_access(
    uow: IntakeUnitOfWork, *, username: str, active: bool, not_before: datetime, reason: Reason, at: datetime
) -> None:
    """Keep the account's access and tell every service: its tokens issued before `not_before` stop working."""
    access = AccountAccessV1(username=username, active=active, not_before=not_before, reason=reason)
    await uow.account_access.put(access)
    await uow.publish(ACCOUNT_ACCESS_CHANGED, access, province=None, at=at)


async def deactivate_account(uow: IntakeUnitOfWork, *, username: str, actor: str, now: datetime) -> bool:
    """The account can no longer sign in and its tokens stop working everywhere; False when it already was."""
    if username == actor:
        raise MayNotDeactivateSelf(username)
    account = await uow.accounts.get(username)
    if account is None:
        raise AccountNotFound(username)
    if not account.active:
        return False
    await uow.accounts.set_active(username, False)
    await change_access(uow, username=username, active=False, not_before=now, reason="deactivated", at=now)
    await uow.audit(at=now, actor=actor, action="account.deactivated", subject=f"account:{username}", details={})
    return True


async def reactivate_account(uow: IntakeUnitOfWork, *, username: str, actor: str, now: datetime) -> bool:
    """The account may sign in again; the tokens of before its deactivation stay refused. False when it was active."""
    account = await uow.accounts.get(username)
    if account is None:
        raise AccountNotFound(username)
    if account.active:
        return False
    await uow.accounts.set_active(username, True)
    earlier = await uow.account_access.get(username)
    not_before = earlier.not_before if earlier else now
    await change_access(uow, username=username, active=True, not_before=not_before, reason="reactivated", at=now)
    await uow.audit(at=now, actor=actor, action="account.reactivated", subject=f"account:{username}", details={})
    return True
