"""Events on baocao.reports: the province's consolidated report approved, published, reverted, reopened.

consolidation owns these; the record key is `<province>`. `report.published` carries the whole
report, so the national office and any later reader need nothing else to show it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.registry import events_on, plan_period_subject, province_key

REPORT_STATUSES = "draft | approved | published"


class IndicatorTotalV1(BaseModel):
    code: str
    label: str
    unit: str | None = None
    total: int = Field(ge=0, description="Sum over the latest version of every unit's report")


class ExcerptV1(BaseModel):
    """What one unit wrote for one section."""

    unit: str
    unit_name: str
    text: str


class TaskSectionV1(BaseModel):
    """Section I, one focus task: its summed figures and the units' narratives."""

    code: str
    title: str
    indicators: list[IndicatorTotalV1]
    excerpts: list[ExcerptV1]


class UnitFiguresV1(BaseModel):
    unit: str
    unit_name: str
    version: int
    received_at: datetime
    values: dict[str, int]


class LateUnitV1(BaseModel):
    unit: str
    unit_name: str
    late_by_s: int | None = None


class DisciplineV1(BaseModel):
    """Section II, reporting discipline (chấp hành chế độ báo cáo)."""

    due_at: datetime | None = None
    closed: bool = False
    expected: int
    on_time: int
    late: int
    missing: int
    pending: int
    on_time_units: list[LateUnitV1] = []
    late_units: list[LateUnitV1] = []
    missing_units: list[LateUnitV1] = []


class ConsolidatedReportV1(BaseModel):
    """The staff office's monthly report (báo cáo tổng hợp), laid out per Decree 30/2020/NĐ-CP."""

    province: str
    province_name: str
    plan_id: str
    plan_number: str
    period: str
    status: str = Field(description=REPORT_STATUSES)
    status_note: str | None = Field(None, description="Why the report is in its status, e.g. back to draft")
    revision: int = Field(ge=1, description="Grows with every change of content")
    issuing_body: str
    place_name: str
    title: str
    number_code: str
    recipients: list[str]
    signer_position: str
    signer_name: str
    totals: dict[str, int]
    tasks: list[TaskSectionV1]
    units: list[UnitFiguresV1]
    difficulties: list[ExcerptV1]
    next_month: list[ExcerptV1]
    closing_labels: dict[str, str] = Field(description="Headings of sections III and IV")
    discipline: DisciplineV1
    approved_at: datetime | None = None
    approved_by: str | None = None
    published_at: datetime | None = None
    published_by: str | None = None


class ReportStatusV1(BaseModel):
    """A change of a report's workflow state, without its content."""

    province: str
    plan_id: str
    period: str
    status: str = Field(description=REPORT_STATUSES)
    revision: int
    at: datetime
    by: str
    reason: str | None = None


report_event = events_on(topics.REPORTS, key=province_key, subject=plan_period_subject)
REPORT_APPROVED = report_event(
    "vn.baocao.report.approved.v1", ReportStatusV1, "A province operator approved the draft; it waits to be published."
)
REPORT_PUBLISHED = report_event(
    "vn.baocao.report.published.v1",
    ConsolidatedReportV1,
    "The report went up to the national office; its period is locked.",
)
REPORT_REVERTED = report_event(
    "vn.baocao.report.reverted.v1",
    ReportStatusV1,
    "An approved report went back to draft because a unit's report changed.",
)
REPORT_REOPENED = report_event(
    "vn.baocao.report.reopened.v1",
    ReportStatusV1,
    "An admin reopened a published period (audited); amendments are accepted again.",
)
