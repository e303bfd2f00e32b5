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

from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.web import csrf, render, templates_for
from consolidation.adapters import report_text as text

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
}


def status_of(value: str) -> Status:
    return STATUSES.get(value, Status(value, "open", ""))


def report_urls(report: ConsolidatedReportV1) -> dict[str, str]:
    """The download (API) and the two workflow forms (pages) of this report."""
    province, period = quote(report.province, safe=""), quote(report.period, safe="")
    page = f"/tong-hop/{province}/{period}"
    return {
        "download": f"/v1/reports/{province}/{period}.docx?{urlencode({'plan_id': report.plan_id})}",
        "approve": f"{page}/duyet",
        "publish": f"{page}/gui",
    }


def _facts(report: ConsolidatedReportV1) -> list[tuple[str, str]]:
    facts = [
        ("Tỉnh", report.province_name),
        ("Kế hoạch", f"Số {report.plan_number}"),
        ("Kỳ báo cáo", report.period),
        ("Trạng thái", status_of(report.status).label),
        ("Lần cập nhật nội dung", str(report.revision)),
    ]
    if report.approved_at:
        facts.append(("Duyệt lúc", f"{text.local_moment(report.approved_at)} ({report.approved_by or 'không rõ'})"))
    if report.published_at:
        facts.append(("Gửi lên lúc", f"{text.local_moment(report.published_at)} ({report.published_by or 'không rõ'})"))
    return facts


def report_context(
    report: ConsolidatedReportV1, *, issued_on: date, can_approve: bool, can_publish: bool, csrf_token: str
) -> dict[str, Any]:
    """Everything report.html needs; `issued_on` fills the date line as in the Word document."""
    doc = text.report_text(report, issued_on=issued_on)
    summary = text.summary_title(report)
    return {
        "title": f"Báo cáo tổng hợp: {summary}",
        "report": report,
        "doc": doc,
        "status": status_of(report.status),
        "facts": _facts(report),
        "urls": report_urls(report),
        "can_approve": can_approve,
        "can_publish": can_publish,
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf_token,
        "labels": {
            "draft": text.DRAFT_MARK,
            "nothing": text.NOTHING_REPORTED,
            "recipients": text.RECIPIENTS_LABEL,
            "appendix": f"{text.APPENDIX_LABEL}: {text.APPENDIX_TITLE}",
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
) -> Response:
    """report.html for this report (its buttons only when told to)."""
    context = report_context(
        report, issued_on=issued_on, can_approve=can_approve, can_publish=can_publish, csrf_token=csrf_token
    )
    return render(TEMPLATES, request, "report.html", context)
