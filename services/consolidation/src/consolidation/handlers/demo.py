"""Demo publications: the staff offices of the demo provinces approve and publish their past months' reports,
some before the national deadline, some after it, and some never, through the real workflow use cases.

Only the instant is chosen (in the past), so numbers, signed documents, events and audit are all real.
Deterministic: the province's place in the list and the period's decide the outcome. Refused when
BAOCAO_ENV=production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from baocao_shared.calendar import parse_period, province_due_at
from baocao_shared.errors import Conflict
from baocao_shared.periods import in_plan, past_periods
from baocao_shared.principal import Principal, Role
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain import continuity
from consolidation.domain.documents import DocumentPress
from consolidation.domain.report import ReportAddress
from consolidation.handlers import workflow

OUTCOMES = ("on_time", "late", "missing")
ON_TIME_BEFORE = timedelta(days=2, hours=-9)  # the 18th at 09:00 for a report due on the 20th
LATE_AFTER = timedelta(days=1, hours=14, minutes=30)  # the 21st at 14:30: late by 1 day 14 h 30 min


@dataclass(frozen=True)
class DemoPublication:
    province: str
    plan_id: str
    period: str
    outcome: str  # on_time | late | missing | kept (already published before)
    at: datetime | None = None
    number: str | None = None


async def demo_targets(uow: ConsolidationUnitOfWork, *, now: datetime, periods: int) -> list[DemoPublication]:
    """What the demo publishes: for each province in force and each plan, its `periods` last past periods, with
    the outcome its place in the country gives it (so every outcome shows)."""
    targets = []
    for index, place in enumerate(await uow.catalogue.provinces()):
        for plan in await uow.catalogue.plans_of(place.code):
            for offset, period in enumerate(past_periods(plan, place.timezone, now, periods)):
                if not in_plan(plan, period) or not continuity.in_force_provinces([place], period):
                    continue
                outcome = OUTCOMES[(index + offset) % len(OUTCOMES)]
                due = province_due_at(parse_period(period, plan.calendar.frequency), plan.calendar, place.timezone)
                at = {"on_time": due - ON_TIME_BEFORE, "late": due + LATE_AFTER}.get(outcome)
                if at is not None and at > now:
                    outcome, at = "missing", None  # not yet: the demo never publishes in the future
                targets.append(DemoPublication(place.code, plan.id, period, outcome, at))
    return targets


async def publish_as_the_office(
    uow: ConsolidationUnitOfWork, *, target: DemoPublication, press: DocumentPress
) -> DemoPublication:
    """Approve and publish one report at the target's instant, as the province's operator would."""
    if target.at is None:
        return target
    state = await uow.reports.get(target.province, target.plan_id, target.period)
    if state is not None and state.status not in ("draft", "approved"):
        return DemoPublication(target.province, target.plan_id, target.period, "kept")
    office = Principal(subject=f"op-{target.province}", role=Role.PROVINCE_OPERATOR, province=target.province)
    address = ReportAddress(target.province, target.period, target.plan_id)
    try:
        if state is None or state.status == "draft":
            await workflow.approve(uow, principal=office, address=address, now=target.at - timedelta(minutes=20))
        published = await workflow.publish(uow, principal=office, address=address, now=target.at, press=press)
    except Conflict:
        return DemoPublication(target.province, target.plan_id, target.period, "kept")
    return DemoPublication(target.province, target.plan_id, target.period, target.outcome, target.at, published.number)
