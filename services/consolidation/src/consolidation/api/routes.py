"""HTTP adapter of consolidation (v1 contract): the report as JSON, DOCX and HTML, its workflow, the national
view. Each route parses, calls its use case in a unit of work, and shapes the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.http.deps import Admin, CurrentPrincipal, Now
from baocao_shared.http.errors import error_responses
from baocao_shared.periods_api import PeriodOut
from consolidation.adapters.report_html import render_report
from consolidation.deps import PERIOD, PROVINCE, Press, Uow
from consolidation.domain.documents import DOCX, PDF, XLSX, filename
from consolidation.domain.report import ReportAddress
from consolidation.handlers import documents, periods, reports, sections, workflow
from consolidation.handlers import national as roll_up

router = APIRouter(tags=["consolidated report"])


PlanId = Annotated[str | None, Query(max_length=64, description="Needed only when the province has several plans")]
Province = Annotated[str, Path(pattern=PROVINCE, examples=["30"])]
Period = Annotated[str, Path(pattern=PERIOD, examples=["2019-06"])]
READING = error_responses(403, 404, 409)  # 409: the period is not open; 422: malformed, or a plan_id needed
WORKFLOW = error_responses(403, 404, 409, 503)  # 409: the report's status does not allow the step now
SECTION_KEY = r"^[a-z][a-z0-9_]{0,31}$"


async def report_address(province: Province, period: Period, plan_id: PlanId = None) -> ReportAddress:
    return ReportAddress(province=province, period=period, plan_id=plan_id)


Address = Annotated[ReportAddress, Depends(report_address)]  # /v1/reports/{province}/{period}?plan_id=


class SectionIn(BaseModel):
    text: str = Field(description="The section's text; at most 20,000 characters, no control characters")
    base_version: int = Field(ge=0, description="The report's `version` the text was written on")


class ReopenIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["Đơn vị bổ sung số liệu theo yêu cầu"])


class ReturnIn(BaseModel):
    reason: str = Field(
        min_length=3, max_length=500, examples=["Thiếu số liệu của UBND huyện Nam Sách; đề nghị bổ sung"],
        description="Why the national office returns the report; shown on the report's page and told to the "
        "province's operators",
    )  # fmt: skip


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get(
    "/v1/reports/{province}/{period}.docx",
    summary="The report as a Word document (Decree 30/2020 layout); once published, the document frozen then",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}, **READING},
)
async def report_docx(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
        stored = await documents.frozen(uow, printed.report, "docx")
    if stored is not None:
        return _download(stored.body, stored.media_type, stored.filename)
    from consolidation.adapters.docx_report import render_docx  # on first use (adapters/press.py says why)

    body = render_docx(printed.report, issued_on=printed.issued_on, history=printed.history)
    return _download(body, DOCX, filename(printed.report, "docx"))


@router.get(
    "/v1/reports/{province}/{period}.pdf",
    summary="The report as PDF: once published, the signed document frozen then; before, a draft marked DỰ THẢO",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, **READING},
)
async def report_pdf(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now, press: Press):
    async with uow:
        printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
        stored = await documents.frozen(uow, printed.report, "pdf")
    if stored is not None:
        return _download(stored.body, stored.media_type, stored.filename)
    body = press.draft_pdf(printed.report, issued_on=printed.issued_on, history=printed.history)
    return _download(body, PDF, filename(printed.report, "pdf").replace(".pdf", "-du-thao.pdf"))


@router.get(
    "/v1/reports/{province}/{period}.xlsx",
    summary="The units' figures and the comparisons over time as a workbook (numbers as numbers)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **READING},
)
async def report_xlsx(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        report = await reports.read_report(uow, principal=principal, address=address, now=now)
    from consolidation.adapters.xlsx_report import render_xlsx  # on first use (adapters/press.py says why)

    return _download(render_xlsx(report), XLSX, filename(report, "xlsx"))


@router.get(
    "/v1/reports/{province}/{period}.html",
    summary="The report as a page (the same content as the Word document, without the workflow's buttons)",
    response_class=HTMLResponse,
    responses=READING,
)
async def report_html(request: Request, address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
    return render_report(request, printed.report, issued_on=printed.issued_on, standing=printed.standing)


@router.get(
    "/v1/reports/{province}/{period}",
    response_model=ConsolidatedReportV1,
    responses=READING,
    summary="The consolidated report: totals, per-unit figures, narratives, discipline",
)
async def report_json(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await reports.read_report(uow, principal=principal, address=address, now=now)


@router.post(
    "/v1/reports/{province}/{period}/approve",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Approve the draft (province operator)",
)
async def approve(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await workflow.approve(uow, principal=principal, address=address, now=now)


@router.post(
    "/v1/reports/{province}/{period}/publish",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Publish the approved report upward: numbered, its DOCX and signed PDF frozen, the period locked "
    "(province operator); 503 when the issuing body's key cannot sign",
)
async def publish(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now, press: Press):
    async with uow:
        return await workflow.publish(uow, principal=principal, address=address, now=now, press=press)


@router.put(
    "/v1/reports/{province}/{period}/sections/{key}",
    response_model=ConsolidatedReportV1,
    responses=error_responses(403, 404, 409, 422),
    summary="Save a section's text written on base_version (province operator); 409 names the current version",
)
async def edit_section(
    address: Address, key: Annotated[str, Path(pattern=SECTION_KEY)], body: SectionIn,
    principal: CurrentPrincipal, uow: Uow, now: Now,
):  # fmt: skip
    async with uow:
        return await sections.edit_section(
            uow, principal=principal, address=address, key=key, text=body.text, base_version=body.base_version, now=now
        )


@router.post(
    "/v1/reports/{province}/{period}/reopen",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Reopen a published period (admin, audited)",
)
async def reopen(address: Address, body: ReopenIn, admin: Admin, uow: Uow, now: Now):
    async with uow:
        return await workflow.reopen(uow, principal=admin, address=address, reason=body.reason, now=now)


@router.post(
    "/v1/reports/{province}/{period}/accept",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Accept the province's published report (national office, audited): final, the period stays locked; "
    "409 unless it is published",
)
async def accept(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await workflow.accept(uow, principal=principal, address=address, now=now)


@router.post(
    "/v1/reports/{province}/{period}/return",
    response_model=ConsolidatedReportV1,
    responses=error_responses(403, 404, 409, 422),
    summary="Return the province's published report as a draft, with a reason (national office, audited): units "
    "may amend again; published again it replaces the earlier document; 409 unless it is published",
)
async def return_report(address: Address, body: ReturnIn, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await workflow.return_to_province(uow, principal=principal, address=address, reason=body.reason, now=now)


@router.get(
    "/v1/periods/{province}/{period}",
    response_model=PeriodOut,
    responses=error_responses(404, 422),
    tags=["periods"],
    summary="Where the plan's period stands (outside_plan, history, not_open, open, overdue, closed), as intake "
    "and deadlines answer it; any signed-in caller",
)
async def period_state(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        found = await periods.period(uow, address=address, now=now)
    return PeriodOut.of(address.province, found)


@router.get(
    "/v1/periods/{province}",
    response_model=list[PeriodOut],
    responses=error_responses(404, 422),
    tags=["periods"],
    summary="Every period of the plan, from its first to the one open now, oldest first, with where each stands",
)
async def period_states(province: Province, principal: CurrentPrincipal, uow: Uow, now: Now, plan_id: PlanId = None):
    async with uow:
        found = await periods.periods(uow, province=province, plan_id=plan_id, now=now)
    return [PeriodOut.of(province, f) for f in found]


@router.get(
    "/v1/national/{period}", responses=error_responses(403), summary="Every province's status and the national totals"
)
async def national(period: Period, principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await roll_up.national(uow, principal=principal, period=period)


class DocumentOut(BaseModel):
    """A published document: which report it is, its number, who signed it."""

    sha256: str
    kind: str
    province: str
    plan_id: str
    period: str
    number: str
    filename: str
    size: int
    signed_by: str | None
    published_at: datetime


@router.get(
    "/v1/documents/{sha256}",
    response_model=DocumentOut,
    responses=error_responses(404),
    summary="Which published document has this SHA-256 (anyone holding the file may ask)",
)
async def document(sha256: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$")], uow: Uow):
    async with uow:
        found = await documents.identify(uow, sha256=sha256)
    return DocumentOut(**{k: getattr(found, k) for k in DocumentOut.model_fields})
