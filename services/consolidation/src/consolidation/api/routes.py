"""HTTP adapter of consolidation (v1 contract): the report as JSON, DOCX and HTML, its workflow, the national
view. Each route parses, calls its use case in a unit of work, and shapes the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.http.deps import Admin, CurrentPrincipal, Now
from baocao_shared.http.errors import error_responses
from consolidation.adapters.docx_report import render_docx
from consolidation.adapters.report_html import render_report
from consolidation.deps import PERIOD, PROVINCE, Uow
from consolidation.domain.report import ReportAddress
from consolidation.handlers import national as roll_up
from consolidation.handlers import reports, workflow

router = APIRouter(tags=["consolidated report"])


PlanId = Annotated[str | None, Query(max_length=64, description="Needed only when the province has several plans")]
Province = Annotated[str, Path(pattern=PROVINCE, examples=["30"])]
Period = Annotated[str, Path(pattern=PERIOD, examples=["2019-06"])]
READING = error_responses(403, 404)  # and 422: a malformed province or period, or a plan_id needed
WORKFLOW = error_responses(403, 404, 409)  # 409: the report's status does not allow the step now
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def report_address(province: Province, period: Period, plan_id: PlanId = None) -> ReportAddress:
    return ReportAddress(province=province, period=period, plan_id=plan_id)


Address = Annotated[ReportAddress, Depends(report_address)]  # /v1/reports/{province}/{period}?plan_id=


class ReopenIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["Đơn vị bổ sung số liệu theo yêu cầu"])


@router.get(
    "/v1/reports/{province}/{period}.docx",
    summary="The report as a Word document (Decree 30/2020 layout)",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}, **READING},
)
async def report_docx(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
    filename = f"bao-cao-{address.province}-{address.period}.docx"
    return Response(
        render_docx(printed.report, issued_on=printed.issued_on),
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/v1/reports/{province}/{period}.html",
    summary="The report as a page (the same content as the Word document, without the workflow's buttons)",
    response_class=HTMLResponse,
    responses=READING,
)
async def report_html(request: Request, address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
    return render_report(request, printed.report, issued_on=printed.issued_on)


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
    summary="Publish the approved report upward; the period is locked (province operator)",
)
async def publish(address: Address, principal: CurrentPrincipal, uow: Uow, now: Now):
    async with uow:
        return await workflow.publish(uow, principal=principal, address=address, now=now)


@router.post(
    "/v1/reports/{province}/{period}/reopen",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Reopen a published period (admin, audited)",
)
async def reopen(address: Address, body: ReopenIn, admin: Admin, uow: Uow, now: Now):
    async with uow:
        return await workflow.reopen(uow, principal=admin, address=address, reason=body.reason, now=now)


@router.get(
    "/v1/national/{period}", responses=error_responses(403), summary="Every province's status and the national totals"
)
async def national(period: Period, principal: CurrentPrincipal, uow: Uow):
    async with uow:
        return await roll_up.national(uow, principal=principal, period=period)
