"""HTTP adapter of consolidation (v1 contract): the report as JSON and DOCX, its workflow, the national view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from baocao_shared.errors import Forbidden
from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.http.deps import CurrentPrincipal, Db, Now, require
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal, Role
from consolidation.handlers import reports as use_cases

router = APIRouter(tags=["consolidated report"])


Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
PlanId = Annotated[str | None, Query(max_length=64, description="Needed only when the province has several plans")]
PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$"
Province = Annotated[str, Path(pattern=r"^\d{2}$", examples=["30"])]
Period = Annotated[str, Path(pattern=PERIOD, examples=["2019-06"])]
READING = error_responses(403, 404)  # and 422: a malformed province or period, or a plan_id needed
WORKFLOW = error_responses(403, 404, 409)  # 409: the report's status does not allow the step now


class ReopenIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["Đơn vị bổ sung số liệu theo yêu cầu"])


def may_read(principal: Principal, province: str) -> None:
    """Operators read their province; the national office and admins read all; units do not read reports here."""
    if principal.role is Role.REPORTER or not principal.may_read_province(province):
        raise Forbidden("The consolidated report is for the province's operators and the national office.")


async def readable(db, principal, province, plan_id, period, now) -> ConsolidatedReportV1:
    may_read(principal, province)
    report = await use_cases.current(db, province=province, plan_id=plan_id, period=period, now=now)
    if principal.role is Role.NATIONAL_OPERATOR and report.status != "published":
        raise Forbidden("The national office sees a province's report once it is published.")
    return report


@router.get(
    "/v1/reports/{province}/{period}.docx",
    summary="The report as a Word document (Decree 30/2020 layout)",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}}},
        **READING,
    },
)
async def report_docx(
    province: Province, period: Period, principal: CurrentPrincipal, db: Db, now: Now, plan_id: PlanId = None
):
    from consolidation.adapters.docx_report import render_docx

    async with db.begin():
        report = await readable(db, principal, province, plan_id, period, now)
        issued = await use_cases.issue_date(db, report, now=now)
    body = render_docx(report, issued_on=issued)
    filename = f"bao-cao-{province}-{period}.docx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/v1/reports/{province}/{period}.html",
    summary="The report as a page (the same content as the Word document, without the workflow's buttons)",
    response_class=HTMLResponse,
    responses=READING,
)
async def report_html(
    request: Request,
    province: Province,
    period: Period,
    principal: CurrentPrincipal,
    db: Db,
    now: Now,
    plan_id: PlanId = None,
):
    from baocao_shared.web import render
    from consolidation.web.pages import TEMPLATES
    from consolidation.web.report_view import report_context

    async with db.begin():
        report = await readable(db, principal, province, plan_id, period, now)
        issued = await use_cases.issue_date(db, report, now=now)
    context = report_context(report, issued_on=issued, can_approve=False, can_publish=False, csrf_token="")
    return render(TEMPLATES, request, "report.html", context)


@router.get(
    "/v1/reports/{province}/{period}",
    response_model=ConsolidatedReportV1,
    responses=READING,
    summary="The consolidated report: totals, per-unit figures, narratives, discipline",
)
async def report_json(
    province: Province, period: Period, principal: CurrentPrincipal, db: Db, now: Now, plan_id: PlanId = None
):
    async with db.begin():
        return await readable(db, principal, province, plan_id, period, now)


@router.post(
    "/v1/reports/{province}/{period}/approve",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Approve the draft (province operator)",
)
async def approve(
    province: Province, period: Period, principal: CurrentPrincipal, db: Db, now: Now, plan_id: PlanId = None
):
    async with db.begin():
        return await use_cases.approve(
            db, principal=principal, province=province, plan_id=plan_id, period=period, now=now
        )


@router.post(
    "/v1/reports/{province}/{period}/publish",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Publish the approved report upward; the period is locked (province operator)",
)
async def publish(
    province: Province, period: Period, principal: CurrentPrincipal, db: Db, now: Now, plan_id: PlanId = None
):
    async with db.begin():
        return await use_cases.publish(
            db, principal=principal, province=province, plan_id=plan_id, period=period, now=now
        )


@router.post(
    "/v1/reports/{province}/{period}/reopen",
    response_model=ConsolidatedReportV1,
    responses=WORKFLOW,
    summary="Reopen a published period (admin, audited)",
)
async def reopen(
    province: Province, period: Period, body: ReopenIn, admin: Admin, db: Db, now: Now, plan_id: PlanId = None
):
    async with db.begin():
        return await use_cases.reopen(
            db, principal=admin, province=province, plan_id=plan_id, period=period, reason=body.reason, now=now
        )


@router.get(
    "/v1/national/{period}", responses=error_responses(403), summary="Every province's status and the national totals"
)
async def national(period: Period, principal: CurrentPrincipal, db: Db):
    if principal.role not in (Role.NATIONAL_OPERATOR, Role.ADMIN):
        raise Forbidden("The national roll-up is for the national office.")
    async with db.begin():
        return await use_cases.national(db, period=period)
