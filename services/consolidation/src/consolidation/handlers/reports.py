"""Reading the consolidated report: who may read it, the report as the submissions make it now (or the
snapshot that went up), and the date on its date line.

The caller owns the transaction (`async with uow:`); these only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from baocao_shared.calendar import Period, due_at, parse_period
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.events.reports import ConsolidatedReportV1, ReturnedV1
from baocao_shared.periods import PeriodStanding, standing
from baocao_shared.principal import Principal, Role
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain import comparisons as over_time
from consolidation.domain import continuity, sections
from consolidation.domain import periods as period_rules
from consolidation.domain import report as rules
from consolidation.domain.errors import (
    NotTheReportsReader,
    PeriodNotInPlan,
    PlanAmbiguous,
    ReportNotPublished,
    UnknownPlan,
    UnknownProvince,
)
from consolidation.domain.report import ReportAddress
from consolidation.domain.workflow import SENT_UP, ReportState, allows


@dataclass(frozen=True)
class Situated:
    """A report and where its period stands now (baocao_shared.periods)."""

    report: ConsolidatedReportV1
    standing: PeriodStanding


@dataclass(frozen=True)
class Printable:
    """A report as printed: its content, the date on its date line, and where its period stands."""

    report: ConsolidatedReportV1
    issued_on: date
    standing: PeriodStanding

    @property
    def history(self) -> bool:
        """A period before tracking: its document says its figures are the office's import."""
        return self.standing.state == "history"


@dataclass(frozen=True)
class PlanChoice:
    """The province and its active plans, when an address names no plan and there are several."""

    province: ProvinceV1 | None
    plans: list[PlanV1]


def check_reader(principal: Principal, *, province: str) -> None:
    """Operators read their province's report; the national office and admins every one; a unit never."""
    if not principal.oversees(province):
        raise NotTheReportsReader(province=province)


def open_steps(principal: Principal, report: ConsolidatedReportV1) -> frozenset[str]:
    """The workflow steps this principal may take on the report now (the page shows their buttons): the
    province's operators approve and publish, the national office accepts or returns; admins may do all."""
    steps = ("approve", "publish") if principal.may_operate_province(report.province) else ()
    if principal.is_national:
        steps += ("accept", "return")
    return frozenset(step for step in steps if report.status != "accepted" and allows(step, report.status))


async def read_report(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime
) -> ConsolidatedReportV1:
    """The report for one of its readers; the national office sees it only once it is published."""
    return (await _read(uow, principal=principal, address=address, now=now)).report


async def _read(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime
) -> Situated:
    check_reader(principal, province=address.province)
    found = await situated(uow, address=address, now=now)
    report = found.report
    if principal.role is Role.NATIONAL_OPERATOR and report.status not in SENT_UP:
        raise ReportNotPublished(
            province=report.province, province_name=report.province_name, plan_id=report.plan_id, period=report.period
        )
    return found


async def printable_report(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime
) -> Printable:
    """`read_report`, with the date its date line shows and where its period stands."""
    found = await _read(uow, principal=principal, address=address, now=now)
    return Printable(found.report, await issue_date(uow, found.report, now=now), found.standing)


async def issue_date(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1, *, now: datetime) -> date:
    """The date on the report's date line: the day it was published (or today), in the province's own time."""
    return await local_date(uow, report.province, report.published_at or now)


async def local_date(uow: ConsolidationUnitOfWork, province: str, instant: datetime) -> date:
    """The day of `instant` in the province's own time."""
    place = await uow.catalogue.province(province)
    return instant.astimezone(ZoneInfo(place.timezone if place else "UTC")).date()


async def plan_choice(uow: ConsolidationUnitOfWork, *, province: str) -> PlanChoice:
    """The province's active plans to choose from."""
    return PlanChoice(await uow.catalogue.province(province), await uow.catalogue.plans_of(province))


async def resolve_plan(uow: ConsolidationUnitOfWork, province: str, plan_id: str | None) -> PlanV1:
    """The plan the request names, or the province's only one."""
    plans = await uow.catalogue.plans_of(province)
    if plan_id:
        found = [p for p in plans if p.id == plan_id]
        if not found:
            raise UnknownPlan(province=province, plan_id=plan_id)
        return found[0]
    if not plans:
        raise UnknownPlan(province=province, plan_id=None)
    if len(plans) > 1:
        raise PlanAmbiguous(province=province, plan_ids=[p.id for p in plans])
    return plans[0]


async def plan_and_period(uow: ConsolidationUnitOfWork, address: ReportAddress) -> tuple[PlanV1, Period]:
    """The plan the address names (or the province's only one) and its period, checked against the plan."""
    plan = await resolve_plan(uow, address.province, address.plan_id)
    try:
        return plan, parse_period(address.period, plan.calendar.frequency)
    except ValueError as exc:
        raise PeriodNotInPlan(period=address.period, reason=str(exc)) from None


async def period_standing(
    uow: ConsolidationUnitOfWork, *, address: ReportAddress, now: datetime
) -> tuple[PlanV1, ProvinceV1, PeriodStanding]:
    """Where the addressed period of the plan stands now, in the province's time (the one answer of
    baocao_shared.periods over this service's copy of the catalogue)."""
    plan, _ = await plan_and_period(uow, address)
    place = await uow.catalogue.province(address.province)
    if place is None:
        raise UnknownProvince(province=address.province)
    return plan, place, standing(plan, address.period, place.timezone, now)


async def current(uow: ConsolidationUnitOfWork, *, address: ReportAddress, now: datetime) -> ConsolidatedReportV1:
    """The published snapshot when there is one; otherwise the report as the submissions and the office's
    sections make it now."""
    return (await situated(uow, address=address, now=now)).report


async def situated(uow: ConsolidationUnitOfWork, *, address: ReportAddress, now: datetime) -> Situated:
    """`current`, with where its period stands. A period outside the plan or not open yet has no report
    (a published one stays readable); a history period's report holds only the figures the staff office
    imported, and section II counts no unit as on time, late or missing."""
    province, period = address.province, address.period
    plan, place, found = await period_standing(uow, address=address, now=now)
    parsed = parse_period(period, plan.calendar.frequency)
    state = await uow.reports.get(province, plan.id, period)
    if state is not None and state.status in SENT_UP and state.content:
        return Situated(_sent_up(state), found)
    period_rules.check_reportable(plan, found)
    history = found.state == "history"
    latest = await uow.unit_reports.latest(province, plan.id, period, imported_only=history)
    units = await uow.catalogue.units_of(province)
    names = {u.code: u.name for u in units}
    expected = continuity.expected_units(plan, units, period)
    if history:
        section_two = period_rules.history_discipline()
    else:
        section_two = rules.discipline(
            expected=expected,
            names=names,
            known=await uow.obligations.timeliness(province, plan.id, period),
            latest={r.unit: r for r in latest},
            due_at=due_at(parsed, plan.calendar, place.timezone),
            now=now,
            closed=await uow.obligations.is_closed(province, plan.id, period),
        )
    frequency = plan.calendar.frequency
    earlier = continuity.predecessors_of(plan, await uow.catalogue.plans_with_successors())
    first_period = continuity.earliest_first_period(plan, earlier)
    wanted = [period, *over_time.periods_needed(period, frequency, first_period=first_period)]
    routed = continuity.route(wanted, plan, earlier)
    provinces = {place.code: place}
    for source in {p.province for plans in routed.values() for p in plans} - {place.code}:
        if (found_place := await uow.catalogue.province(source)) is not None:
            provinces[source] = found_place
    compared, coverage = over_time.compare(
        period=period,
        frequency=frequency,
        indicators=[i.code for t in plan.template.tasks for i in t.indicators],
        figures=continuity.gather(routed, await _figures(uow, routed)),
        expected=len(expected),
        first_period=first_period,
    )
    notes = continuity.notes(plan, coverage, routed, provinces)
    sources = [sections.UnitSource(r.unit, names.get(r.unit, r.unit), r.values, r.narratives) for r in latest]
    written = sections.sections(
        plan,
        figures=sections.Figures(
            period_label=over_time.period_label(period, frequency),
            plan_number=plan.number,
            indicators={i.code: (i.label, i.unit) for t in plan.template.tasks for i in t.indicators},
            comparisons=compared,
            coverage=coverage,
            discipline=section_two,
            quoted=_quoted(sources),
            history=history,
        ),
        sources=sources,
        edited=await uow.sections.edited(province, plan.id, period),
        names=names,
    )
    workflow: dict[str, Any] = {
        "status": "draft",
        "revision": await uow.unit_reports.revision(province, plan.id, period),
        "version": state.version if state is not None else 0,
    }
    if state is not None:
        workflow |= {"status": state.status, "approved_at": state.approved_at, "approved_by": state.approved_by}
    report = rules.build_report(
        plan=plan, province=place, period=period, names=names, latest=latest, discipline=section_two,
        workflow=workflow, sections=written, comparisons=compared, coverage=coverage,
    )  # fmt: skip
    report = report.model_copy(
        update={
            "status_note": state.status_reason if state is not None else None, "continuity": notes,
            "returned": _returned(state),
        }
    )  # fmt: skip
    return Situated(report, found)


def _sent_up(state: ReportState) -> ConsolidatedReportV1:
    """The snapshot that went up; once accepted, it says so (the snapshot itself never changes)."""
    report = ConsolidatedReportV1.model_validate(state.content)
    if state.status == "accepted":
        report = report.model_copy(
            update={"status": "accepted", "accepted_at": state.accepted_at, "accepted_by": state.accepted_by}
        )
    return report


def _returned(state: ReportState | None) -> ReturnedV1 | None:
    """Who returned the report to the province, when and why, while it is a draft again."""
    if state is None or state.status != "draft" or state.returned_at is None:
        return None
    return ReturnedV1(reason=state.returned_reason or "", by=state.returned_by or "", at=state.returned_at)


async def _figures(
    uow: ConsolidationUnitOfWork, routed: dict[str, list[PlanV1]]
) -> dict[continuity.PlanKey, dict[str, over_time.PeriodFigures]]:
    """Each plan's figures for the periods routed to it (a predecessor's as they were, in its own province)."""
    wanted: dict[continuity.PlanKey, tuple[PlanV1, list[str]]] = {}
    for code, plans in routed.items():
        for source in plans:
            wanted.setdefault(continuity.key(source), (source, []))[1].append(code)
    out = {}
    for plan_key, (source, codes) in wanted.items():
        history = period_rules.history_periods(source, codes)
        out[plan_key] = await uow.unit_reports.figures(source.province, source.id, codes, history=history)
    return out


def _quoted(sources: list[sections.UnitSource]) -> dict[str, list[str]]:
    """Per narrative key, the names of the units that wrote something under it."""
    quoted: dict[str, list[str]] = {}
    for source in sources:
        for key, text in source.narratives.items():
            if text and text.strip():
                quoted.setdefault(key, []).append(source.unit_name)
    return quoted
