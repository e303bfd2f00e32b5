"""The consolidated report as a pure function of the plan, the latest unit reports and timeliness.

Totals are sums over the latest version of each unit's report. Everything is ordered by the plan
(tasks, indicators, units), so the same state always gives the same report, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.events.reports import (
    ComparisonV1,
    ConsolidatedReportV1,
    CoverageV1,
    DisciplineV1,
    ExcerptV1,
    IndicatorTotalV1,
    LateUnitV1,
    ReportSectionV1,
    TaskSectionV1,
    UnitFiguresV1,
)

CLOSING_DEFAULTS = {"difficulties": "Khó khăn, vướng mắc, đề xuất, kiến nghị", "next_month": "Phương hướng tháng tới"}


@dataclass(frozen=True)
class ReportAddress:
    """Which report a request names: the province's, for the period, of the plan when it has several."""

    province: str
    period: str
    plan_id: str | None = None


@dataclass(frozen=True)
class LatestReport:
    """The latest version of one unit's report for the period."""

    unit: str
    version: int
    received_at: datetime
    first_received_at: datetime
    values: Mapping[str, int]
    narratives: Mapping[str, str]


@dataclass(frozen=True)
class Timeliness:
    status: str
    late_by_s: int | None


def totals(plan: PlanV1, latest: Sequence[LatestReport]) -> dict[str, int]:
    codes = [i.code for task in plan.template.tasks for i in task.indicators]
    return {code: sum(int(r.values.get(code, 0)) for r in latest) for code in codes}


def discipline(
    *,
    expected: Sequence[str],
    names: Mapping[str, str],
    known: Mapping[str, Timeliness],
    latest: Mapping[str, LatestReport],
    due_at: datetime | None,
    now: datetime,
    closed: bool,
) -> DisciplineV1:
    """Section II: deadlines' word per unit where it has spoken, else what the submissions say."""
    groups: dict[str, list[LateUnitV1]] = {"on_time": [], "late": [], "missing": [], "pending": []}
    for unit in expected:
        status, late_by = _status(unit, known, latest, due_at, now)
        groups[status].append(LateUnitV1(unit=unit, unit_name=names.get(unit, unit), late_by_s=late_by))
    return DisciplineV1(
        due_at=due_at,
        closed=closed,
        expected=len(expected),
        on_time=len(groups["on_time"]),
        late=len(groups["late"]),
        missing=len(groups["missing"]),
        pending=len(groups["pending"]),
        on_time_units=groups["on_time"],
        late_units=groups["late"],
        missing_units=groups["missing"],
    )


def _status(unit, known, latest, due_at, now) -> tuple[str, int | None]:
    if unit in known:
        return known[unit].status, known[unit].late_by_s
    report = latest.get(unit)
    if report is not None and due_at is not None:
        late = report.first_received_at >= due_at
        return ("late", int((report.first_received_at - due_at).total_seconds())) if late else ("on_time", None)
    if report is not None:
        return "on_time", None
    return ("missing", None) if due_at is not None and now >= due_at else ("pending", None)


def build_report(
    *,
    plan: PlanV1,
    province: ProvinceV1,
    period: str,
    names: Mapping[str, str],
    latest: Sequence[LatestReport],
    discipline: DisciplineV1,
    workflow: Mapping[str, Any],
    sections: Sequence[ReportSectionV1] = (),
    comparisons: Mapping[str, ComparisonV1] | None = None,
    coverage: CoverageV1 | None = None,
) -> ConsolidatedReportV1:
    order = {code: i for i, code in enumerate(plan.units)}
    latest = sorted(latest, key=lambda r: (order.get(r.unit, len(order)), r.unit))
    summed = totals(plan, latest)

    def excerpts(key: str) -> list[ExcerptV1]:
        return [
            ExcerptV1(unit=r.unit, unit_name=names.get(r.unit, r.unit), text=r.narratives[key])
            for r in latest
            if r.narratives.get(key)
        ]

    year, month = period.split("-")[0], period.split("-")[1] if "-" in period else ""
    return ConsolidatedReportV1(
        province=province.code,
        province_name=province.name,
        plan_id=plan.id,
        plan_number=plan.number,
        period=period,
        status=workflow.get("status", "draft"),
        revision=workflow.get("revision", 1),
        issuing_body=province.issuing_body,
        place_name=province.place_name,
        title=plan.report.title.replace("{month}", month).replace("{year}", year),
        number_code=plan.report.number_code,
        recipients=plan.report.recipients,
        signer_position=plan.report.signer_position,
        signer_name=plan.report.signer_name,
        totals=summed,
        tasks=[
            TaskSectionV1(
                code=task.code,
                title=task.title,
                indicators=[
                    IndicatorTotalV1(code=i.code, label=i.label, unit=i.unit, total=summed[i.code])
                    for i in task.indicators
                ],
                excerpts=excerpts(task.code),
            )
            for task in plan.template.tasks
        ],
        units=[
            UnitFiguresV1(
                unit=r.unit,
                unit_name=names.get(r.unit, r.unit),
                version=r.version,
                received_at=r.received_at,
                values=dict(r.values),
            )
            for r in latest
        ],
        difficulties=excerpts("difficulties"),
        next_month=excerpts("next_month"),
        closing_labels={**CLOSING_DEFAULTS, **plan.template.closing_narratives},
        discipline=discipline,
        approved_at=workflow.get("approved_at"),
        approved_by=workflow.get("approved_by"),
        published_at=workflow.get("published_at"),
        published_by=workflow.get("published_by"),
        version=workflow.get("version", 0),
        sections=list(sections),
        comparisons=dict(comparisons or {}),
        coverage=coverage,
        addressees=plan.report.addressees,
    )
