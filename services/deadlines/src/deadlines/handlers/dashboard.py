"""What the staff office's compliance dashboard reads (tiến độ báo cáo): a province's plans, the plan's opened
periods, one period's compliance and each unit's standing in the periods before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.periods import standing
from baocao_shared.principal import Principal
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.errors import PeriodNotOpen, PlanAmbiguous, UnknownProvince
from deadlines.handlers.compliance import check_oversees, choose_plan, period_compliance, require_tracked
from deadlines.handlers.views import status_of

HISTORY_PERIODS = 6


@dataclass(frozen=True)
class Board:
    """One period of a plan as the dashboard shows it; `plan` is None when the province has several plans and
    none was named, `period` None when the plan has no period opened yet."""

    province: ProvinceV1
    plans: list[PlanV1]
    plan: PlanV1 | None = None
    periods: list[str] = field(default_factory=list)  # opened and tracked, newest first
    states: dict[str, str] = field(default_factory=dict)  # {period: open | overdue | closed}
    period: str | None = None
    compliance: dict[str, Any] = field(default_factory=dict)
    history_periods: list[str] = field(default_factory=list)  # oldest first, up to and with `period`
    history: dict[str, dict[str, str]] = field(default_factory=dict)  # {unit: {period: status}}


def default_period(periods: Sequence[Any], now: datetime) -> str | None:
    """The newest opened period already due, else the newest opened one (periods come newest first)."""
    due = [p.period for p in periods if p.due_at <= now]
    return due[0] if due else (periods[0].period if periods else None)


async def provinces(uow: DeadlinesUnitOfWork) -> list[ProvinceV1]:
    """The provinces of the catalogue, to choose one from."""
    return await uow.catalog.provinces()


async def board(
    uow: DeadlinesUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str | None,
    now: datetime,
) -> Board:
    """The period asked for (else the newest due one) of the plan asked for (else the province's only one)."""
    check_oversees(principal, province)
    found = await uow.catalog.province(province)
    if found is None:
        raise UnknownProvince(province=province)
    plans = await uow.catalog.plans_of(province)
    try:
        chosen = choose_plan(province, [p.id for p in plans], plan_id, province_name=found.name)
    except PlanAmbiguous:
        return Board(found, plans)
    plan = next(p for p in plans if p.id == chosen)
    states, opened = {}, []
    for row in await uow.periods.opened(province, plan.id):
        where = standing(plan, row.period, found.timezone, now)
        if where.tracked:  # only tracked periods are listed; history is not
            states[row.period] = where.state
            opened.append(row)
    codes = [p.period for p in opened]
    if period is not None:
        require_tracked(plan, found, period, now)  # else: history, not open until a date, outside the plan
    period = period or default_period(opened, now)
    if period is None:
        return Board(found, plans, plan)
    if period not in codes:
        raise PeriodNotOpen(province=province, plan_id=plan.id, period=period)
    recent = await uow.periods.recent(province, plan.id, before=period, count=HISTORY_PERIODS)
    return Board(
        found,
        plans,
        plan,
        codes,
        states,
        period,
        compliance=await period_compliance(uow, province=found, plan=plan, period=period, now=now),
        history_periods=recent,
        history=await unit_history(uow, province=province, plan_id=plan.id, periods=recent, now=now),
    )


async def unit_history(
    uow: DeadlinesUnitOfWork, *, province: str, plan_id: str, periods: list[str], now: datetime
) -> dict[str, dict[str, str]]:
    """Each unit's status in each of `periods`, in one query; a period the unit did not owe is absent."""
    history: dict[str, dict[str, str]] = {}
    for row in await uow.obligations.owed_in(province, plan_id, periods):
        history.setdefault(row.unit, {})[row.period] = status_of(row, closed_at=row.closed_at, now=now)
    return history
