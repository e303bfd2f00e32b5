"""Use cases of period locks; each lock and reopen is an audit record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import NotFound
from intake.adapters import orm


async def lock(
    session: AsyncSession, *, province: str, plan_id: str, period: str, actor: str, reason: str, now: datetime
) -> dict:
    """Lock a period; locking a locked period changes nothing."""
    created = await session.scalar(
        insert(orm.period_locks)
        .values(province=province, plan_id=plan_id, period=period, locked_at=now, locked_by=actor, reason=reason)
        .on_conflict_do_nothing()
        .returning(orm.period_locks.c.period)
    )
    if created:
        await _audit(session, "period.locked", province, plan_id, period, actor, reason, now)
    return {"province": province, "plan_id": plan_id, "period": period, "locked": True}


async def reopen(
    session: AsyncSession, *, province: str, plan_id: str, period: str, actor: str, reason: str, now: datetime
) -> dict:
    p = orm.period_locks.c
    removed = await session.scalar(
        orm.period_locks.delete()
        .where(p.province == province, p.plan_id == plan_id, p.period == period)
        .returning(p.period)
    )
    if removed is None:
        raise NotFound(f"Period {period} of plan {plan_id} in province {province} is not locked.")
    await _audit(session, "period.reopened", province, plan_id, period, actor, reason, now)
    return {"province": province, "plan_id": plan_id, "period": period, "locked": False}


async def _audit(session, action, province, plan_id, period, actor, reason, now) -> None:
    await session.execute(
        orm.audit_log.insert().values(
            at=now,
            actor=actor,
            action=action,
            subject=f"period:{province}.{plan_id}.{period}",
            details={"reason": reason},
        )
    )
