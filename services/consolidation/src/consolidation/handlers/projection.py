"""Keep the projection from the topics: catalogue, the latest unit reports, timeliness, and the
report workflow's own events (so a rebuild from the topics restores approvals and publications).

The `..._recorded` / `..._updated` use cases that take a list apply a run of events at once (a replay,
or a consumer's batch) and leave the state that applying each in turn leaves; their adapters write the
run with one set-based statement."""

from __future__ import annotations

from baocao_shared.events.catalog import PlanV1, ProvinceV1, RegimeV1, UnitV1
from baocao_shared.events.deadlines import ObligationV1, PeriodClosedV1
from baocao_shared.events.reports import ConsolidatedReportV1, ReportStatusV1
from baocao_shared.events.submissions import SubmissionV1
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.timeliness import replaces
from consolidation.handlers import workflow


async def province_upserted(uow: ConsolidationUnitOfWork, province: ProvinceV1) -> None:
    """The catalogue's latest word on a province."""
    await uow.catalogue.upsert_province(province)


async def unit_upserted(uow: ConsolidationUnitOfWork, unit: UnitV1) -> None:
    """The catalogue's latest word on a unit (its name shows in the report)."""
    await uow.catalogue.upsert_unit(unit)


async def units_upserted(uow: ConsolidationUnitOfWork, units: list[UnitV1]) -> None:
    """As `unit_upserted` on each in turn, in one statement."""
    await uow.catalogue.upsert_units(units)


async def plan_upserted(uow: ConsolidationUnitOfWork, plan: PlanV1) -> None:
    """The catalogue's latest word on a plan: its template, calendar and units."""
    await uow.catalogue.upsert_plan(plan)


async def regime_upserted(uow: ConsolidationUnitOfWork, regime: RegimeV1) -> None:
    """The catalogue's latest word on a national regime: its template, onto which plans map their indicators."""
    await uow.catalogue.upsert_regime(regime)


async def submission_recorded(uow: ConsolidationUnitOfWork, s: SubmissionV1) -> None:
    """The higher version wins, whatever the order of arrival; an approved report goes back to draft."""
    if await uow.unit_reports.record(s):
        await workflow.content_changed(uow, s.province, s.plan_id, s.period, unit=s.unit, at=s.received_at)


async def submissions_recorded(uow: ConsolidationUnitOfWork, batch: list[SubmissionV1]) -> None:
    """As `submission_recorded` on each in turn, in a few statements.

    Only an approved report reacts to a change (it goes back to draft, naming the unit, at that
    submission's time): the submissions of a report whose approval they may outgrow are applied one
    by one, in order. The rest are folded to the highest version per unit (the first of equal ones,
    as a later equal version changes nothing) and upserted together under the same rule."""
    bounds: dict[tuple[str, str, str], int] = {}
    for s in batch:
        key = (s.province, s.plan_id, s.period)
        bounds[key] = bounds.get(key, 0) + s.version  # how far this run can raise the report's revision at most
    approved = await uow.reports.approved_revisions(list(bounds))
    one_by_one = {key for key, (seen, now) in approved.items() if now + bounds[key] > seen}
    latest: dict[tuple[str, str, str, str], SubmissionV1] = {}
    for s in batch:
        if (s.province, s.plan_id, s.period) in one_by_one:
            await submission_recorded(uow, s)
            continue
        unit = (s.province, s.plan_id, s.period, s.unit)
        if unit not in latest or latest[unit].version < s.version:
            latest[unit] = s
    if latest:
        await uow.unit_reports.record_latest(latest.values())


async def obligation_updated(uow: ConsolidationUnitOfWork, o: ObligationV1) -> None:
    """Deadlines' word on one unit's timeliness; final once the period is closed."""
    # After the close, deadlines still corrects a unit whose report was accepted before the close
    # but reached it late (it was down, or the period was opened afterwards): that word is final too.
    await uow.obligations.record(o, final=o.closed)


async def obligations_updated(uow: ConsolidationUnitOfWork, batch: list[ObligationV1]) -> None:
    """As `obligation_updated` on each in turn, in one statement: per unit, the word that stands over the others
    of the batch (consolidation.domain.timeliness), which the statement then weighs against the stored one."""
    latest: dict[tuple[str, str, str, str], ObligationV1] = {}
    for o in batch:
        unit = (o.province, o.plan_id, o.period, o.unit)
        old = latest.get(unit)
        if old is None or replaces(
            new_status=o.status, new_final=o.closed, old_status=old.status, old_final=old.closed
        ):
            latest[unit] = o
    await uow.obligations.record_latest(latest.values())


async def period_closed(uow: ConsolidationUnitOfWork, closed: PeriodClosedV1) -> None:
    """The close's word on each unit is final; the period is marked closed."""
    for o in closed.units:
        await uow.obligations.record(o, final=True)
    await uow.obligations.close(closed)


async def report_status_changed(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Our own approved / reverted / reopened events: already applied live; applied again on a rebuild."""
    await workflow.apply_status(uow, change)


async def report_returned(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Our own returned event (the national office sent the report back): applied again on a rebuild."""
    await workflow.apply_returned(uow, change)


async def report_accepted(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Our own accepted event (the national office accepted the report): applied again on a rebuild."""
    await workflow.apply_accepted(uow, change)


async def report_published(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1) -> None:
    """Our own published event: already applied live; applied again on a rebuild."""
    await workflow.apply_published(uow, report)
