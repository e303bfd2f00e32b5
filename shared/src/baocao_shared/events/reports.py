"""Events on baocao.reports: the province's consolidated report approved, published, reverted, reopened, and the
national office's answer to a published one: accepted, or returned to the province as a draft.

consolidation owns these; the record key is `<province>`. `report.published` carries the whole
report, so the national office and any later reader need nothing else to show it.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from baocao_shared.events import topics
from baocao_shared.events.catalog import AddresseeV1
from baocao_shared.events.registry import events_on, plan_period_subject, province_key

REPORT_STATUSES = "draft | approved | published | accepted"


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


class ComparisonV1(BaseModel):
    """One indicator over time. None: no unit reported in that period (never counted as zero)."""

    total: int | None = Field(None, description="The period's total")
    previous: int | None = Field(None, description="The previous period's total")
    last_year: int | None = Field(None, description="The same period a year before")
    year_to_date: int | None = Field(None, description="Lũy kế: from the year's first period to this one")


class CoverageV1(BaseModel):
    """How many units' reports each figure of the comparisons covers."""

    expected: int = Field(description="Units the plan names for the period")
    total: int
    previous: int
    last_year: int
    year_to_date: int = Field(description="Unit reports summed over the year so far")
    previous_period: str | None = None
    last_year_period: str | None = None
    year_periods: list[str] = Field([], description="The periods the year to date sums")


class ContinuityV1(BaseModel):
    """A predecessor plan whose figures the comparisons read for periods before this plan began (a province
    merged, split or renamed: issue 17, part 2), and the sentence the document says it with."""

    province: str
    province_name: str
    plan_id: str
    plan_number: str
    comparisons: list[str] = Field(description="Which comparisons read it: previous, last_year, year_to_date")
    periods: list[str] = Field(description="The periods whose figures are the predecessor plan's")
    note: str = Field(description="The document's sentence, e.g. 'Số liệu cùng kỳ năm trước gồm số liệu của ...'")


class SourceChangeV1(BaseModel):
    """A unit whose figures or words under a section changed after the office wrote it."""

    unit: str
    unit_name: str
    change: str = Field(description="amended | added | withdrawn")


class ReportSectionV1(BaseModel):
    """A section the staff office writes: its text, or the draft built from the figures until it is edited."""

    key: str
    title: str
    kind: str
    text: str = Field(description="The office's text; the draft while nobody has edited it")
    draft: str = Field("", description="What the figures say now, for the office to take from")
    edited: bool = False
    edited_by: str | None = None
    edited_at: datetime | None = None
    source_changed: bool = Field(False, description="A unit's report under it changed after the last edit")
    source_changes: list[SourceChangeV1] = []
    quotes: list[str] = Field([], description="Narrative keys whose excerpts are its sources")


class DocumentRefV1(BaseModel):
    """A document frozen at publishing: every download returns exactly these bytes."""

    kind: str = Field(description="pdf | docx")
    media_type: str
    filename: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int


class ReturnedV1(BaseModel):
    """The national office sent the published report back to the province as a draft."""

    reason: str
    by: str
    at: datetime


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
    version: int = Field(0, description="Counts the office's edits of its sections")
    sections: list[ReportSectionV1] = []
    comparisons: dict[str, ComparisonV1] = Field({}, description="Per indicator: now, before, a year ago, lũy kế")
    coverage: CoverageV1 | None = None
    continuity: list[ContinuityV1] = Field([], description="Predecessor plans the comparisons read, and the note")
    number: str | None = Field(None, description="Số/ký hiệu from the register of outgoing documents, e.g. 3/BC-BCĐNQ")
    addressees: list[AddresseeV1] = []
    signed_by: str | None = Field(None, description="The signing certificate's subject, once published")
    documents: list[DocumentRefV1] = Field([], description="The frozen DOCX and signed PDF, once published")
    replaces: str | None = Field(
        None, description="The number of the document this one replaces (published again after a return or reopen)"
    )
    replaces_issued_on: date | None = Field(None, description="The date line of the document it replaces")
    returned: ReturnedV1 | None = Field(None, description="Why the national office returned it, while a draft again")
    accepted_at: datetime | None = Field(None, description="When the national office accepted it (final)")
    accepted_by: str | None = None


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
REPORT_RETURNED = report_event(
    "vn.baocao.report.returned.v1",
    ReportStatusV1,
    "The national office returned a published report to the province as a draft, `reason` saying why (audited); "
    "amendments are accepted again, and publishing again issues a document that replaces the earlier one.",
)
REPORT_ACCEPTED = report_event(
    "vn.baocao.report.accepted.v1",
    ReportStatusV1,
    "The national office accepted a published report (status accepted): final, its period stays locked.",
)


class SectionEditedV1(BaseModel):
    """The staff office saved a section's text; `sources` fingerprints each unit's figures and words under it then."""

    province: str
    plan_id: str
    period: str
    key: str
    text: str
    version: int = Field(ge=1, description="The report's version after this edit")
    by: str
    at: datetime
    sources: dict[str, str] = Field({}, description="unit -> digest of what it reported under the section")


class DocumentIssuedV1(BaseModel):
    """A document frozen at publishing, with its bytes: the register keeps it and notify attaches it.

    Published just before report.published, under the same key, so every reader has it first."""

    province: str
    plan_id: str
    period: str
    number: str
    kind: str = Field(description="pdf | docx")
    media_type: str
    filename: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int
    signed_by: str | None = None
    published_at: datetime
    content_base64: str
    replaces: str | None = Field(None, description="The number of the document this one replaces")


REPORT_SECTION_EDITED = report_event(
    "vn.baocao.report.section_edited.v1",
    SectionEditedV1,
    "The staff office saved the text of one section of its report (an edit, audited).",
)
REPORT_DOCUMENT_ISSUED = report_event(
    "vn.baocao.report.document_issued.v1",
    DocumentIssuedV1,
    "A document of a report being published (the signed PDF, the DOCX), frozen with its bytes.",
)
