"""Compliance of a province's period, recent history per unit, and manual nudges (đôn đốc)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import NotFound, Unprocessable
from baocao_shared.events import make_event, topics
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.events.deadlines import NUDGE_REQUESTED, UnitNoticeV1
from baocao_shared.messaging.outbox import enqueue
from deadlines.adapters import orm
from deadlines.handlers.views import period_views, to_view

SOURCE = "/baocao/deadlines"


async def resolve_plan(session: AsyncSession, province: str, plan_id: str | None) -> str:
    """The plan asked for, or the province's only active plan."""
    ids = (
        (
            await session.execute(
                select(orm.plans.c.id)
                .where(orm.plans.c.province == province, orm.plans.c.active)
                .order_by(orm.plans.c.id)
            )
        )
        .scalars()
        .all()
    )
    if plan_id:
        if plan_id not in ids:
            raise NotFound(f"Province {province} has no active plan {plan_id!r}.")
        return plan_id
    if not ids:
        raise NotFound(f"Province {province} has no active plan here yet.")
    if len(ids) > 1:
        raise Unprocessable("This province has several plans; say which with plan_id.", {"plan_ids": ids})
    return ids[0]


async def compliance(
    session: AsyncSession, *, province: str, plan_id: str | None, period: str, now: datetime
) -> dict[str, Any]:
    plan_id = await resolve_plan(session, province, plan_id)
    p = orm.periods.c
    row = (
        await session.execute(
            select(orm.periods).where(p.province == province, p.plan_id == plan_id, p.period == period)
        )
    ).first()
    if row is None:
        raise NotFound(f"Period {period} of plan {plan_id} is not open (yet) in province {province}.")
    views, summary = await period_views(session, province, plan_id, period, now=now)
    return {
        "province": province,
        "plan_id": plan_id,
        "period": period,
        "due_at": row.due_at,
        "closed_at": row.closed_at,
        "summary": summary,
        "units": [
            {
                "unit": v.unit,
                "unit_name": v.unit_name,
                "status": v.status,
                "first_submitted_at": v.first_submitted_at,
                "late_by_s": v.late_by_s,
                "amended_after_due": v.amended_after_due,
            }
            for v in views
        ],
    }


async def recent_periods(session: AsyncSession, *, province: str, plan_id: str, before: str, count: int) -> list[str]:
    p = orm.periods.c
    rows = await session.execute(
        select(p.period)
        .where(p.province == province, p.plan_id == plan_id, p.period <= before)
        .order_by(p.period.desc())
        .limit(count)
    )
    return sorted(r.period for r in rows)


async def unit_history(
    session: AsyncSession, *, province: str, plan_id: str, periods: list[str], now: datetime
) -> dict[str, dict[str, str]]:
    """Each unit's status in each of `periods`, in one query: {unit: {period: status}}; a period the unit
    did not owe is absent."""
    o, p = orm.obligations, orm.periods
    rows = await session.execute(
        select(o, o.c.unit.label("unit_name"), p.c.closed_at)
        .join(p, (p.c.province == o.c.province) & (p.c.plan_id == o.c.plan_id) & (p.c.period == o.c.period))
        .where(
            o.c.province == province,
            o.c.plan_id == plan_id,
            o.c.period.in_(periods),
            o.c.expected,
            o.c.due_at.is_not(None),
        )
    )
    history: dict[str, dict[str, str]] = {}
    for row in rows:
        history.setdefault(row.unit, {})[row.period] = to_view(row, closed_at=row.closed_at, now=now).status
    return history


async def opened_periods(session: AsyncSession, *, province: str, plan_id: str) -> list[Any]:
    """The plan's periods opened here (period, due_at, closed_at), newest first."""
    p = orm.periods.c
    rows = await session.execute(
        select(p.period, p.due_at, p.closed_at)
        .where(p.province == province, p.plan_id == plan_id)
        .order_by(p.period.desc())
    )
    return list(rows)


async def known_provinces(session: AsyncSession) -> list[ProvinceV1]:
    """The provinces of the catalogue (tỉnh), by code."""
    docs = await session.scalars(select(orm.provinces.c.doc).order_by(orm.provinces.c.code))
    return [ProvinceV1.model_validate(doc) for doc in docs]


async def active_plans(session: AsyncSession, province: str) -> list[PlanV1]:
    """The province's active plans (kế hoạch), by id."""
    pl = orm.plans.c
    docs = await session.scalars(select(pl.doc).where(pl.province == province, pl.active).order_by(pl.id))
    return [PlanV1.model_validate(doc) for doc in docs]


async def nudge(
    session: AsyncSession,
    *,
    province: str,
    plan_id: str | None,
    period: str,
    units: list[str],
    requested_by: str,
    message: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A manual reminder to the chosen units that have not submitted; the others are listed as skipped."""
    plan_id = await resolve_plan(session, province, plan_id)
    views, _ = await period_views(session, province, plan_id, period, now=now)
    by_unit = {v.unit: v for v in views}
    unknown = [u for u in units if u not in by_unit]
    if unknown:
        raise Unprocessable(
            "Some units owe nothing for this period.",
            [
                {
                    "loc": ["body", "units", u],
                    "msg": f"Đơn vị {u} không có nghĩa vụ báo cáo kỳ {period}.",
                    "type": "no_obligation",
                }
                for u in unknown
            ],
        )
    n = orm.notices.c
    sent, skipped, events = [], [], []
    for unit in dict.fromkeys(units):
        view = by_unit[unit]
        if view.status in ("on_time", "late"):
            skipped.append({"unit": unit, "reason": "already_submitted"})
            continue
        sequence = await session.scalar(
            select(func.count()).where(
                n.province == province, n.plan_id == plan_id, n.period == period, n.unit == unit, n.kind == "nudge"
            )
        )
        await session.execute(
            orm.notices.insert().values(
                province=province,
                plan_id=plan_id,
                period=period,
                unit=unit,
                kind="nudge",
                sequence=sequence,
                fired_at=now,
                requested_by=requested_by,
                message=message,
            )
        )
        notice = UnitNoticeV1(
            province=province,
            plan_id=plan_id,
            period=period,
            unit=unit,
            unit_name=view.unit_name,
            due_at=view.due_at,
            kind="nudge",
            sequence=sequence,
            fire_at=now,
            requested_by=requested_by,
            message=message,
            late_by_s=max(0, int((now - view.due_at).total_seconds())) if now >= view.due_at else None,
        )
        events.append(make_event(NUDGE_REQUESTED, notice, source=SOURCE, province=province, time=now))
        sent.append(unit)
    await enqueue(session, orm.outbox, topics.DEADLINES, events)
    return {"province": province, "plan_id": plan_id, "period": period, "sent": sent, "skipped": skipped}
