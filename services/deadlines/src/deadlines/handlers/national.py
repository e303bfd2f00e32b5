"""The national level (issue 18 §1): the national office is a reporting level whose reporting units are the
provinces. A province owes, for every opened period of its plan it is in force in, its consolidated report; its
"submission" is the report's first publication (report.published), timed against the province's deadline
(baocao_shared.calendar.province_due_at) with the units' rules (domain.timeliness). The plan's notice offsets run
from that deadline (domain.schedule.province_notices): reminders and overdue notices to the province's operators,
one escalation digest to the national office, and the national close, after which `missing` is final."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from baocao_shared.calendar import Period, province_due_at
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.events.deadlines import (
    NATIONAL_ESCALATION_RAISED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_OBLIGATION_UPDATED,
    PROVINCE_REMINDER_DUE,
    MissingProvinceV1,
    NationalEscalationV1,
    ProvinceNoticeV1,
    ProvinceObligationV1,
)
from baocao_shared.events.reports import ConsolidatedReportV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.schedule import PROVINCE_KINDS, reminds_now
from deadlines.domain.timeliness import awaited, late_by_s, standing


def province_view(row: Any, *, now: datetime) -> ProvinceObligationV1:
    """A province obligation row (of ProvinceObligations) as the others see it: a publication after the national
    close does not count."""
    status, first = standing(
        due_at=row.due_at, first_submitted_at=row.first_published_at, closed_at=row.closed_at, now=now
    )
    return ProvinceObligationV1(
        province=row.province,
        province_name=row.province_name or row.province,
        plan_id=row.plan_id,
        period=row.period,
        due_at=row.due_at,
        status=status,
        first_published_at=first,
        late_by_s=late_by_s(due_at=row.due_at, first_submitted_at=first),
        closed=row.closed_at is not None,
    )


async def report_published(uow: DeadlinesUnitOfWork, report: ConsolidatedReportV1) -> None:
    """A province published its report: its first publication is its submission to the national office (a
    republish after a return changes nothing). Announced once its deadline is known."""
    at = report.published_at
    if at is None:  # a published report always says when; an older record without it cannot be timed
        return
    await uow.province_obligations.published(report.province, report.plan_id, report.period, at=at)
    await announce_publication(uow, report.province, report.plan_id, report.period, now=at)


async def announce_publication(
    uow: DeadlinesUnitOfWork, province: str, plan_id: str, period: str, *, now: datetime
) -> None:
    """Tell the others, once, how the province's first publication stands; a publication before the period was
    opened here is announced by the opening. One after the national close does not count: the close told them
    the province is missing, and nothing has changed."""
    row = await uow.province_obligations.unannounced(province, plan_id, period)
    if row is None:
        return
    view = province_view(row, now=now)
    if not (view.closed and view.status == "missing"):
        await uow.publish(PROVINCE_OBLIGATION_UPDATED, view, province=province, at=now)
    await uow.province_obligations.announced(province, plan_id, period, at=now)


async def owe_periods(
    uow: DeadlinesUnitOfWork, plan: PlanV1, province: ProvinceV1, periods: list[Period], *, now: datetime
) -> None:
    """The province owes the national office each of these opened periods, due on the plan's province_due_day;
    publications that came before the opening are announced now."""
    dues = {period.code: province_due_at(period, plan.calendar, province.timezone) for period in periods}
    await uow.province_obligations.owe(plan.province, plan.id, dues)
    for code in await uow.province_obligations.periods_to_announce(plan.province, plan.id, list(dues)):
        await announce_publication(uow, plan.province, plan.id, code, now=now)


async def province_notice(uow: DeadlinesUnitOfWork, item: Any, *, due_at: datetime, now: datetime) -> None:
    """A reminder before the province's deadline, an overdue notice after it: to a province that has not published
    (its operators, by notify). `due_at` is the units' deadline: the province's is its obligation's."""
    row = await uow.province_obligations.owed(item.province, item.plan_id, item.period)
    if row is None or not reminds_now(item.kind, due_at=row.due_at, now=now):
        return
    if not awaited(province_view(row, now=item.fire_at).status):
        return
    if not await uow.notices.take(item, [item.province], now=now):
        return  # noticed before
    kind = PROVINCE_KINDS[item.kind]
    notice = ProvinceNoticeV1(
        province=item.province,
        province_name=row.province_name or item.province,
        plan_id=item.plan_id,
        period=item.period,
        due_at=row.due_at,
        kind=kind,
        sequence=item.sequence,
        day_offset=item.day_offset,
        fire_at=item.fire_at,
        late_by_s=int((item.fire_at - row.due_at).total_seconds()) if kind == "overdue" else None,
    )
    spec = PROVINCE_REMINDER_DUE if kind == "reminder" else PROVINCE_DEADLINE_MISSED
    await uow.publish(spec, notice, province=item.province, at=now)


async def national_close(uow: DeadlinesUnitOfWork, item: Any, *, due_at: datetime, now: datetime) -> None:
    """The national close of the province's period: a province that has not published is missing for good, and
    the others are told so."""
    await uow.province_obligations.close(item.province, item.plan_id, item.period, at=item.fire_at)
    row = await uow.province_obligations.owed(item.province, item.plan_id, item.period)
    if row is None:
        return
    view = province_view(row, now=item.fire_at)
    if view.status == "missing":
        await uow.publish(PROVINCE_OBLIGATION_UPDATED, view, province=item.province, at=now)


async def fire_national_escalations(uow: DeadlinesUnitOfWork, *, now: datetime) -> int:
    """The national escalation rows due, across provinces: one digest per period and instant to the national
    office, listing the provinces still missing then (none when every province has published)."""
    items = await uow.schedule.national_due(now=now)
    groups: dict[tuple[str, datetime], list[Any]] = defaultdict(list)
    for item in items:
        groups[(item.period, item.fire_at)].append(item)
    for (period, fire_at), group in groups.items():
        rows = await uow.province_obligations.of_keys([(i.province, i.plan_id, i.period) for i in group])
        if rows:
            views = [province_view(row, now=fire_at) for row in rows]
            missing = [
                MissingProvinceV1(province=v.province, province_name=v.province_name, plan_id=v.plan_id)
                for v in views
                if v.status == "missing"
            ]
            if missing:
                digest = NationalEscalationV1(
                    period=period,
                    plan_ids=sorted({v.plan_id for v in views}),
                    due_at=min(v.due_at for v in views),
                    fire_at=fire_at,
                    expected=len(views),
                    missing_provinces=missing,
                )
                await uow.publish(NATIONAL_ESCALATION_RAISED, digest, province=None, at=now)
        await uow.schedule.fired_many([i.id for i in group], at=now)
    return len(items)
