"""The consolidated report as HTML: the same wording as the Word document, plus the workflow's buttons.

    render_report(request, report, issued_on=today, can_approve=..., can_publish=..., csrf_token=...)

Used by the API's `.html` (no buttons) and by the report's page. The content (header, sections I–IV,
recipients, signer, appendix) is `report_text`, the lines the .docx is made of, so the page and the
download never disagree. Who may approve or publish is decided by the use cases (`open_steps`); this only
shows the buttons it is told to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import Response

from baocao_shared.events.reports import ConsolidatedReportV1, ReportSectionV1
from baocao_shared.periods import STATE_LABELS, PeriodStanding
from baocao_shared.web import csrf, render, templates_for
from consolidation.adapters import report_text as text
from consolidation.domain.sections import MAX_SECTION_CHARS

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATES = templates_for(TEMPLATES_DIR)


@dataclass(frozen=True)
class Status:
    label: str
    css: str  # a badge class of baocao.css
    explanation: str


STATUSES = {
    "draft": Status(
        "Dự thảo", "open", "Báo cáo đang ở dạng dự thảo, số liệu còn thay đổi khi đơn vị gửi hoặc sửa báo cáo."
    ),
    "approved": Status("Đã duyệt", "done", "Báo cáo đã được duyệt và chờ gửi lên Văn phòng Thường trực."),
    "published": Status(
        "Đã gửi lên", "locked", "Báo cáo đã gửi lên Văn phòng Thường trực; số liệu của kỳ báo cáo đã khóa."
    ),
    "accepted": Status(
        "Đã tiếp nhận", "done", "Văn phòng Thường trực đã tiếp nhận báo cáo; số liệu của kỳ báo cáo đã khóa."
    ),
}
RETURNED = Status(
    "Bị trả lại",
    "overdue",
    "Văn phòng Thường trực đã trả lại báo cáo: các đơn vị có thể sửa báo cáo; cơ quan thường trực sửa, duyệt và "
    "gửi lại báo cáo (văn bản mới thay thế văn bản đã gửi).",
)


def status_of(value: str) -> Status:
    return STATUSES.get(value, Status(value, "open", ""))


def report_status(report: ConsolidatedReportV1) -> Status:
    """The badge of the report: its status, or "returned" while a draft the national office sent back."""
    return RETURNED if report.returned is not None and report.status == "draft" else status_of(report.status)


@dataclass(frozen=True)
class EarlierDocument:
    """A document the report went up with before it was published again: it stays in the register."""

    number: str
    kind: str
    sha256: str
    published_at: str


def report_urls(report: ConsolidatedReportV1) -> dict[str, str]:
    """The downloads (API), the workflow forms and the sections' editor (pages) of this report."""
    province, period = quote(report.province, safe=""), quote(report.period, safe="")
    page = f"/tong-hop/{province}/{period}"
    plan = urlencode({"plan_id": report.plan_id})
    return {
        "download": f"/v1/reports/{province}/{period}.docx?{plan}",
        "pdf": f"/v1/reports/{province}/{period}.pdf?{plan}",
        "xlsx": f"/v1/reports/{province}/{period}.xlsx?{plan}",
        "approve": f"{page}/duyet",
        "publish": f"{page}/gui",
        "accept": f"{page}/tiep-nhan",
        "return": f"{page}/tra-lai",
        "section": f"{page}/muc/",
        "check": "/kiem-tra-van-ban",
    }


@dataclass(frozen=True)
class Source:
    """A unit's words under a section, to quote from."""

    unit_name: str
    paragraphs: list[str]


@dataclass(frozen=True)
class SectionView:
    """One section in the console: its text (or what the editor typed and could not save), its sources."""

    section: ReportSectionV1
    text: str
    figures: text.FiguresTable | None
    sources: list[Source]
    error: str | None = None


CHANGE_WORDS = {"amended": "đã sửa báo cáo", "added": "gửi thêm báo cáo", "withdrawn": "không còn nội dung"}


def section_views(
    report: ConsolidatedReportV1, *, pending: dict[str, str] | None = None, error: tuple[str, str] | None = None
) -> list[SectionView]:
    """The sections beside their sources: the figures of a task and the excerpts the section quotes."""
    pending = pending or {}
    by_key: dict[str, list] = {t.code: t.excerpts for t in report.tasks}
    by_key |= {"difficulties": report.difficulties, "next_month": report.next_month}
    tasks = {t.code: t for t in report.tasks}
    views = []
    for section in report.sections:
        sources = [
            Source(e.unit_name, text.paragraphs(e.text))
            for key in section.quotes
            for e in by_key.get(key, [])
            if e.text.strip()
        ]
        task = next((tasks[q] for q in section.quotes if q in tasks), tasks.get(section.key.upper()))
        figures = text.figures_table(report, task) if section.kind == "task" and task else None
        message = error[1] if error and error[0] == section.key else None
        views.append(SectionView(section, pending.get(section.key, section.text), figures, sources, message))
    return views


def _facts(report: ConsolidatedReportV1, standing: PeriodStanding | None = None) -> list[tuple[str, str]]:
    facts = [
        ("Tỉnh", report.province_name),
        ("Kế hoạch", f"Số {report.plan_number}"),
        ("Kỳ báo cáo", report.period),
    ]
    if standing is not None:
        facts.append(("Tình trạng kỳ báo cáo", STATE_LABELS[standing.state]))
        if standing.closes_at is not None:
            said = "Đã khóa sổ lúc" if standing.state == "closed" else "Sẽ khóa sổ lúc"  # not "closed at" ahead
            facts.append((said, text.local_moment(standing.closes_at)))
    facts += [
        ("Trạng thái", status_of(report.status).label),
        ("Lần cập nhật số liệu", str(report.revision)),
        ("Phiên bản nội dung", str(report.version)),
    ]
    if report.approved_at:
        facts.append(("Duyệt lúc", f"{text.local_moment(report.approved_at)} ({report.approved_by or 'không rõ'})"))
    if report.published_at:
        facts.append(("Gửi lên lúc", f"{text.local_moment(report.published_at)} ({report.published_by or 'không rõ'})"))
    if report.accepted_at:
        facts.append(("Tiếp nhận lúc", f"{text.local_moment(report.accepted_at)} ({report.accepted_by or 'không rõ'})"))
    if report.returned:
        returned = report.returned
        facts.append(("Trả lại lúc", f"{text.local_moment(returned.at)} ({returned.by})"))
    if report.number:
        facts.append(("Số văn bản", report.number))
    if report.replaces:
        facts.append(("Thay thế văn bản", text.replaces_words(report)))
    if report.signed_by:
        facts.append(("Ký số bởi", report.signed_by))
    for d in report.documents:
        facts.append((f"SHA-256 bản {d.kind.upper()}", d.sha256))
    return facts


def report_context(
    report: ConsolidatedReportV1,
    *,
    issued_on: date,
    can_approve: bool,
    can_publish: bool,
    csrf_token: str,
    console: bool = False,
    can_edit: bool = False,
    pending: dict[str, str] | None = None,
    error: tuple[str, str] | None = None,
    standing: PeriodStanding | None = None,
    can_accept: bool = False,
    can_return: bool = False,
    earlier: list[EarlierDocument] | None = None,
    answer_error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Everything report.html needs; `issued_on` fills the date line as in the Word document. The console
    (the report's page) also shows each section with its sources, and its editor when `can_edit`; `standing`,
    where the report's period stands (its state and close; a history period's document says so). The national
    office's forms when `can_accept` / `can_return` (`answer_error`: a refused return's message and the reason
    typed), and the documents it went up with `earlier`."""
    history = standing is not None and standing.state == "history"
    doc = text.report_text(report, issued_on=issued_on, history=history)
    summary = text.summary_title(report)
    return {
        "title": f"Báo cáo tổng hợp: {summary}",
        "report": report,
        "doc": doc,
        "status": report_status(report),
        "facts": _facts(report, standing),
        "urls": report_urls(report),
        "can_approve": can_approve,
        "can_publish": can_publish,
        "can_accept": can_accept,
        "can_return": can_return,
        "earlier": earlier or [],
        "answer_error": answer_error,
        "console": console,
        "can_edit": can_edit,
        "sections": section_views(report, pending=pending, error=error) if console else [],
        "change_words": CHANGE_WORDS,
        "local_moment": text.local_moment,
        "max_chars": MAX_SECTION_CHARS,
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf_token,
        "labels": {
            "draft": text.DRAFT_MARK,
            "nothing": text.NOTHING_REPORTED,
            "recipients": text.RECIPIENTS_LABEL,
            "appendix": f"{text.APPENDIX_LABEL}: {text.APPENDIX_TITLE}",
            "annex": f"{text.ANNEX_LABEL}: {text.ANNEX_TITLE}",
            "total": text.TOTAL_ROW,
        },
    }


def render_report(
    request: Request,
    report: ConsolidatedReportV1,
    *,
    issued_on: date,
    can_approve: bool = False,
    can_publish: bool = False,
    csrf_token: str = "",
    console: bool = False,
    can_edit: bool = False,
    pending: dict[str, str] | None = None,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
    standing: PeriodStanding | None = None,
    **answer: Any,
) -> Response:
    """report.html for this report (its buttons and editors only when told to; `answer`: the national office's
    forms and the earlier documents, as `report_context` takes them)."""
    context = report_context(
        report, issued_on=issued_on, can_approve=can_approve, can_publish=can_publish, csrf_token=csrf_token,
        console=console, can_edit=can_edit, pending=pending, error=error, standing=standing, **answer,
    )  # fmt: skip
    return render(TEMPLATES, request, "report.html", context, status_code=status_code)
