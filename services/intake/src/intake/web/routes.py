"""The units' web form (biểu mẫu nộp báo cáo): their periods, the report form, receipt and history.

Thin like the API: each page reads through the unit-form and submission use cases, and a posted form goes to the
same use cases as POST /v1/submissions (`forms.post_form`), so the rules and their messages are the API's; a
named refusal becomes a Vietnamese page here. The office's entry on a unit's behalf is `on_behalf.py`.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from baocao_shared.http.deps import Now
from baocao_shared.principal import Role
from baocao_shared.web import render
from baocao_shared.web.csrf import CsrfForm
from intake.deps import Uow
from intake.domain.errors import ReportNotReadable, SubmissionNotFound, UnitNotInCatalogue
from intake.handlers import unit_form
from intake.web import audit, on_behalf, session, views
from intake.web.forms import Where, form_page, history_page, not_found_page, post_form, unit_report
from intake.web.pages import TEMPLATES, PagePrincipal, Reporter, install_handlers

router = APIRouter(include_in_schema=False)
OWN = Where()


def install(app: FastAPI) -> None:
    """Add the web pages to intake: sign-in, the unit's form, the office's entry, /static and the error pages."""
    install_handlers(app)
    app.include_router(session.router)
    app.include_router(on_behalf.router)  # Nhập hộ, for a province's office: before /bao-cao/{plan}/{period}
    app.include_router(router)
    app.include_router(audit.router)  # Nhật ký, for operators


@router.get("/")
async def home(request: Request, principal: PagePrincipal, uow: Uow, now: Now, tat_ca: bool = False) -> Response:
    if principal.role is not Role.REPORTER:
        return render(TEMPLATES, request, "home_other.html", {"title": "Nộp báo cáo"})
    try:
        async with uow:
            province, unit = await unit_form.unit_of(uow, principal=principal)
            found = await unit_form.unit_plans(uow, principal=principal)
    except UnitNotInCatalogue as exc:
        raise not_found_page(exc) from None
    plans = []
    for p in found:
        rows = views.period_rows(p.plan, province.timezone, now, p.submitted, p.locked, p.excepted)
        plans.append((p.plan, *views.shown_rows(rows, show_all=tat_ca)))
    context = {
        "title": "Kỳ báo cáo của đơn vị", "province": province, "unit": unit, "plans": plans, "all": tat_ca,
        "where": OWN,
    }  # fmt: skip
    return render(TEMPLATES, request, "home_unit.html", context)


REPORT = "/bao-cao/{plan_id}/{period}"


@router.get(REPORT)
async def report_form(request: Request, plan_id: str, period: str, principal: Reporter, uow: Uow, now: Now) -> Response:
    report = await unit_report(uow, principal, plan_id, period, now, OWN)
    return form_page(request, report, views.stored_inputs(report.existing), now, OWN)


@router.post(REPORT)
async def post_report(
    request: Request, plan_id: str, period: str, form: CsrfForm, principal: Reporter, uow: Uow, now: Now
) -> Response:
    report = await unit_report(uow, principal, plan_id, period, now, OWN)
    return await post_form(request, report, form, principal, uow, now, OWN)


@router.get("/bien-nhan/{submission_id}")
async def receipt(request: Request, submission_id: uuid.UUID, principal: PagePrincipal, uow: Uow, v: int | None = None):
    try:
        async with uow:
            submission, province, plan = await unit_form.receipt(uow, principal=principal, submission_id=submission_id)
    except (SubmissionNotFound, ReportNotReadable) as exc:
        raise not_found_page(exc) from None
    version = next((h for h in submission.history if h.version == v), submission.history[-1])
    context = {
        "title": "Đã nhận báo cáo",
        "submission": submission,
        "version": version,
        "plan": plan,
        "timezone": province.timezone if province else "Asia/Ho_Chi_Minh",
        "where": OWN if principal.role is Role.REPORTER else Where(submission.unit),
    }
    return render(TEMPLATES, request, "receipt.html", context)


@router.get(REPORT + "/lich-su")
async def report_history(request: Request, plan_id: str, period: str, principal: Reporter, uow: Uow, now: Now):
    report = await unit_report(uow, principal, plan_id, period, now, OWN)
    return await history_page(request, report, principal, uow, OWN)
