"""Use cases of period locks: a published period refuses submissions and amendments until an audited reopen."""

from __future__ import annotations

from datetime import datetime

from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.errors import PeriodNotLocked


async def lock(
    uow: IntakeUnitOfWork, *, province: str, plan_id: str, period: str, actor: str, reason: str, now: datetime
) -> dict:
    """Lock a period; locking a locked period changes nothing."""
    if await uow.locks.add(province=province, plan_id=plan_id, period=period, at=now, by=actor, reason=reason):
        await _audit(uow, "period.locked", province, plan_id, period, actor, reason, now)
    return {"province": province, "plan_id": plan_id, "period": period, "locked": True}


async def reopen(
    uow: IntakeUnitOfWork, *, province: str, plan_id: str, period: str, actor: str, reason: str, now: datetime
) -> dict:
    """Unlock a locked period; PeriodNotLocked when it is open."""
    if not await uow.locks.remove(province=province, plan_id=plan_id, period=period):
        raise PeriodNotLocked(province=province, plan_id=plan_id, period=period)
    await _audit(uow, "period.reopened", province, plan_id, period, actor, reason, now)
    return {"province": province, "plan_id": plan_id, "period": period, "locked": False}


async def _audit(uow: IntakeUnitOfWork, action, province, plan_id, period, actor, reason, now) -> None:
    subject = f"period:{province}.{plan_id}.{period}"
    await uow.audit(at=now, actor=actor, action=action, subject=subject, details={"reason": reason})
