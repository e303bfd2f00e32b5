"""Open periods: one obligation per active unit of the plan, and the period's schedule rows; and where a period
stands, as every service answers it (baocao_shared.periods over deadlines' own copy of the catalogue).

The periods opened are exactly the tracked ones (open, overdue or closed per baocao_shared.periods), from the
province's start of tracking up to the period open now: a plan tracked since 2019 opens its ~90 periods in a few
set-based statements, their past notices skipped and each close firing once. Periods before the start of
tracking are history: never opened. When a plan's start of tracking moves later, the periods now history are
forgotten: their period rows and unfired schedule rows are deleted and their obligations kept but marked not
expected (what arrived stays on record; no figure counts them and nobody is reminded).

The structure in force in a period decides (issue 17, part 2): a province's plan opens only the periods the
province is in force in, and each period is owed by the plan's units in force in it (domain.membership), so
2025-06 of a province reorganised at 1 July 2025 keeps its districts and 2025-08 has its communes."""

from __future__ import annotations

from datetime import datetime

from baocao_shared.calendar import Period, cutoff_window, parse_period
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.periods import PeriodStanding, plan_periods, tracking_from
from baocao_shared.structure import in_force
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.domain.schedule import deadline, period_notices, province_notices, skipped_at_opening, unit_notices
from deadlines.handlers import national
from deadlines.handlers.compliance import period_standing, plan_in_province
from deadlines.handlers.submissions import announce_first_submissions


def province_tracked(plan: PlanV1, province: ProvinceV1, now: datetime, *, since: str) -> list[PeriodStanding]:
    """The plan's tracked periods from `since` on (baocao_shared.periods: open, overdue or closed) that its province
    is in force in, oldest first: a province merged into another (valid_to 2025-06) has none of its plan's periods
    after it, a province in force from a later month none before (baocao_shared.structure.in_force)."""
    return [
        found
        for found in plan_periods(plan, province.timezone, now, since=since)
        if found.tracked and in_force(province, found.period)
    ]


async def open_due_periods(uow: DeadlinesUnitOfWork, *, now: datetime) -> list[tuple[str, str, str]]:
    """Open every tracked period not yet opened, and re-check plans whose catalogue changed.

    An unchanged plan's opened periods run without a gap from its first tracked one to its newest (each look opens
    every one missing, and only a changed plan forgets some), so only the periods after its newest opened one can
    be missing: one query tells that newest period for every plan at once, and the standings are computed from it
    on (one or two a tick), not for every period since 2019."""
    opened = []
    plans = await uow.catalog.plans_to_open()
    newest = await uow.periods.newest([(plan.province, plan.id) for plan, _, changed in plans if not changed])
    for plan, province, changed in plans:
        if changed and await uow.catalog.units_unknown(plan):
            # The province's load is still arriving: a period opened now would be owed by part of its units, and
            # a closed one would stay so. The plan stays `changed`; a later tick opens it whole.
            continue
        if changed:
            await forget_history(uow, plan)
            known = await uow.periods.codes(plan.province, plan.id)
            # A changed plan re-checks who owes its periods still in progress; a closed period is final and
            # keeps its obligations as they were.
            tracked = province_tracked(plan, province, now, since=tracking_from(plan))
            todo = [found for found in tracked if found.period not in known or found.state != "closed"]
            # Its opened periods the province is no longer in force in (a reorganisation loaded late) are owed by
            # nobody now, closed ones too, as a unit's are (handlers.catalog.unit_upserted).
            outside = [code for code in known if not in_force(province, code)]
            await uow.obligations.stop_unreported(plan.province, plan.id, outside)
            await uow.province_obligations.stop_unreported(plan.province, plan.id, outside)
        else:
            last = newest.get((plan.province, plan.id))
            tracked = province_tracked(plan, province, now, since=last or tracking_from(plan))
            todo = [found for found in tracked if last is None or found.period > last]
        if todo:
            frequency = plan.calendar.frequency
            await ensure_periods(uow, plan, province, [parse_period(f.period, frequency) for f in todo], now=now)
            opened += [(plan.province, plan.id, found.period) for found in todo]
        if changed:
            await uow.catalog.checked(plan)
    return opened


async def forget_history(uow: DeadlinesUnitOfWork, plan: PlanV1) -> None:
    """The plan's periods before its start of tracking are history: not opened, nothing fires, nothing owed."""
    first = tracking_from(plan)
    await uow.periods.forget_before(plan.province, plan.id, first)
    await uow.schedule.forget_before(plan.province, plan.id, first)
    await uow.obligations.not_expected_before(plan.province, plan.id, first)
    await uow.province_obligations.not_expected_before(plan.province, plan.id, first)


async def ensure_periods(
    uow: DeadlinesUnitOfWork, plan: PlanV1, province: ProvinceV1, periods: list[Period], *, now: datetime
) -> None:
    """Idempotent: the periods' rows, an obligation per unit that owes each, the province's obligation to the
    national office (handlers.national), and their schedules; a few statements for all the periods together."""
    timezone = province.timezone
    dues = {period.code: deadline(period, plan.calendar, timezone) for period in periods}
    new = await uow.periods.open_many(plan.province, plan.id, dues, now=now)
    owed = [(period.code, dues[period.code], cutoff_window(period, plan.calendar)[1]) for period in periods]
    await uow.obligations.owe_periods(plan, owed, reopened=[code for code in dues if code not in new])
    await national.owe_periods(uow, plan, province, periods, now=now)
    await _ensure_schedule(uow, plan, province, periods, now)
    for code in await uow.obligations.periods_to_announce(plan.province, plan.id, list(dues)):
        await announce_first_submissions(uow, plan.province, plan.id, code, now=now)


async def _ensure_schedule(
    uow: DeadlinesUnitOfWork, plan: PlanV1, province: ProvinceV1, periods: list[Period], now: datetime
) -> None:
    """The periods' schedule rows, in one statement."""
    await uow.schedule.add([row for period in periods for row in _schedule(plan, province.timezone, period, now)])


def _schedule(plan: PlanV1, timezone: str, period: Period, now: datetime) -> list[dict]:
    """One row per (kind, sequence), the national level's too; a notice already past when the period opens is
    skipped, not sent late."""
    notices = {(n.kind, n.sequence): n for n in unit_notices(period, plan.calendar, timezone)}
    notices |= {(n.kind, n.sequence): n for n in period_notices(period, plan.calendar, timezone)}
    notices |= {(n.kind, n.sequence): n for n in province_notices(period, plan.calendar, timezone)}
    return [
        {
            "province": plan.province,
            "plan_id": plan.id,
            "period": period.code,
            "kind": notice.kind,
            "sequence": notice.sequence,
            "day_offset": notice.day_offset,
            "fire_at": notice.fire_at,
            "state": "skipped" if skipped_at_opening(notice, now) else "pending",
        }
        for notice in notices.values()
    ]


async def period_of(
    uow: DeadlinesUnitOfWork, *, province: str, plan_id: str | None, period: str, now: datetime
) -> PeriodStanding:
    """Where one period of the plan stands (GET /v1/periods/{province}/{period}), for any signed-in principal."""
    found, plan = await plan_in_province(uow, province, plan_id)
    return period_standing(plan, found, period, now)


async def periods_of(
    uow: DeadlinesUnitOfWork, *, province: str, plan_id: str | None, now: datetime
) -> list[PeriodStanding]:
    """Every period of the plan from its first to the one open now, oldest first (GET /v1/periods/{province})."""
    found, plan = await plan_in_province(uow, province, plan_id)
    return plan_periods(plan, found.timezone, now)
