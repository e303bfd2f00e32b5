"""What the pages need to find their way that the use cases do not answer: which period to open first,
and the labels of the indicators in the national roll-up. Read-only queries of the projection."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events.catalog import PlanV1
from consolidation.adapters import orm
from consolidation.adapters.report_text import TIMEZONE

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def month_of(now: datetime) -> str:
    """The local month of an instant, as a period: 2019-06."""
    return now.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m")


def recent_months(now: datetime, count: int = 6) -> list[str]:
    """This month and the ones before it, newest first."""
    local = now.astimezone(ZoneInfo(TIMEZONE))
    year, month = local.year, local.month
    found = []
    for _ in range(count):
        found.append(f"{year}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found


async def latest_period(session: AsyncSession, now: datetime, province: str | None = None) -> str:
    """The newest month, up to this one, that has a unit's report (in the province); else this month."""
    u = orm.unit_reports.c
    current = month_of(now)
    query = select(func.max(u.period)).where(u.period.regexp_match(MONTH), u.period <= current)
    if province is not None:
        query = query.where(u.province == province)
    return await session.scalar(query) or current


async def active_plans(session: AsyncSession) -> list[PlanV1]:
    p = orm.plans.c
    rows = await session.execute(select(p.doc).where(p.active).order_by(p.province, p.id))
    return [PlanV1.model_validate(r.doc) for r in rows]


def indicator_labels(plans: list[PlanV1]) -> dict[str, tuple[str, str | None]]:
    """code → (label, unit) from the first plan whose template has that code."""
    labels: dict[str, tuple[str, str | None]] = {}
    for plan in plans:
        for task in plan.template.tasks:
            for indicator in task.indicators:
                labels.setdefault(indicator.code, (indicator.label, indicator.unit))
    return labels
