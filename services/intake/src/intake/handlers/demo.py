"""Demo history: past months of plausible reports, sent through the real submission use cases.

Each report is accepted by `submissions.submit` / `amend` exactly as a unit's would be, only with
the instant it "arrived" in the past, so timeliness, versions, audit and events are all real. Most
units report on time, some late, a few amend, and some never report. Deterministic for a seed.
Refused when BAOCAO_ENV=production.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.events.catalog import PlanV1, UnitV1
from baocao_shared.periods import past_periods
from baocao_shared.principal import Principal, Role
from baocao_shared.structure import in_force
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.account_errors import RefusedInProduction
from intake.domain.errors import AlreadySubmitted, PeriodLocked, StaleVersion
from intake.domain.models import AmendmentIn, SubmissionIn
from intake.handlers import submissions as use_cases

CROWDS = ("người", "lượt")  # indicators that count people are in the hundreds, the rest in units


def figures(plan: PlanV1, rng: random.Random) -> dict[str, int]:
    values = {}
    for task in plan.template.tasks:
        for indicator in task.indicators:
            crowd = any(word in f"{indicator.label} {indicator.unit or ''}".lower() for word in CROWDS)
            values[indicator.code] = rng.randint(20, 600) if crowd else rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 9])
    return values


def narratives(plan: PlanV1, unit: UnitV1, period: str, rng: random.Random) -> dict[str, str]:
    texts = {
        task.code: f"Trong kỳ {period}, {unit.name} đã triển khai: {task.title[0].lower()}{task.title[1:]}. "
        + rng.choice(
            [
                "Các hoạt động được tổ chức đúng kế hoạch.",
                "Kết quả cơ bản đạt yêu cầu đề ra.",
                "Đã lồng ghép vào các hội nghị thường kỳ của đơn vị.",
            ]
        )
        for task in plan.template.tasks
    }
    texts["difficulties"] = rng.choice(
        [
            "Kinh phí cho công tác tuyên truyền còn hạn chế.",
            "Một số cán bộ làm công tác tuyên truyền còn kiêm nhiệm nhiều việc.",
            "Không có khó khăn, vướng mắc.",
        ]
    )
    texts["next_month"] = "Tiếp tục quán triệt, tuyên truyền theo kế hoạch; tổng hợp, báo cáo đúng thời hạn."
    return texts


async def seed_history(
    uow: IntakeUnitOfWork, *, province: str, periods: int, now: datetime, env: str, seed: int = 1
) -> list[dict[str, Any]]:
    """Past reports of every active plan of `province` for its `periods` last due periods."""
    if env == "production":
        raise RefusedInProduction("Demo history")
    place = await uow.catalog.province(province)
    units = {u.code: u for u in await uow.catalog.units(province)}
    outcome = []
    for plan in await uow.catalog.plans(province):
        for period in past_periods(plan, place.timezone, now, periods):
            deadline = due_at(parse_period(period, plan.calendar.frequency), plan.calendar, place.timezone)
            counts = {"on_time": 0, "late": 0, "missing": 0, "amended": 0, "existing": 0}
            for code in plan.units:
                if code not in units or not in_force(units[code], period):
                    continue  # a unit a reorganisation ended (or one not begun yet) owes nothing for the period
                rng = random.Random(f"{seed}:{plan.id}:{period}:{code}")  # one unit's fate, whatever the others'
                fate = rng.random()
                if fate < 0.12:
                    counts["missing"] += 1
                    continue
                late = fate < 0.27
                arrived = (
                    deadline + timedelta(hours=rng.randint(2, 100))
                    if late
                    else deadline - timedelta(hours=rng.randint(3, 120))
                )
                if not await _report(uow, plan, units[code], period, arrived, rng):
                    counts["existing"] += 1
                    continue
                counts["late" if late else "on_time"] += 1
                if rng.random() < 0.2:
                    counts["amended"] += await _amend(
                        uow, plan, units[code], period, arrived + timedelta(hours=rng.randint(5, 60)), rng
                    )
            outcome.append({"plan_id": plan.id, "period": period, **counts})
    return outcome


def _reporter(unit: UnitV1) -> Principal:
    return Principal(subject=f"{unit.province}-{unit.code}", role=Role.REPORTER, province=unit.province, unit=unit.code)


async def _report(uow: IntakeUnitOfWork, plan: PlanV1, unit: UnitV1, period: str, arrived: datetime, rng) -> bool:
    """Submit as the unit would have at `arrived`; False when it had already reported (seeded before)."""
    body = SubmissionIn(
        plan_id=plan.id,
        unit=unit.code,
        period=period,
        values=figures(plan, rng),
        narratives=narratives(plan, unit, period, rng),
    )
    try:
        async with uow.savepoint():
            await use_cases.submit(uow, principal=_reporter(unit), body=body, now=arrived)
    except (AlreadySubmitted, PeriodLocked):
        return False
    return True


async def _amend(uow: IntakeUnitOfWork, plan: PlanV1, unit: UnitV1, period: str, arrived: datetime, rng) -> int:
    found = await use_cases.search(
        uow,
        principal=_reporter(unit),
        province=unit.province,
        unit=unit.code,
        period=period,
        plan_id=plan.id,
        limit=1,
    )
    if not found or found[0].version > 1:
        return 0
    body = AmendmentIn(values=figures(plan, rng), narratives=narratives(plan, unit, period, rng), base_version=1)
    try:
        async with uow.savepoint():
            await use_cases.amend(uow, principal=_reporter(unit), submission_id=found[0].id, body=body, now=arrived)
    except (StaleVersion, PeriodLocked):
        return 0
    return 1
