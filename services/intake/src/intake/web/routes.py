"""The units' web form (biểu mẫu nộp báo cáo): their periods, the report form, receipt and history.

Thin like the API: each page reads through the unit-form and submission use cases, and a posted
form goes to the same `submit_once` / `amend_once` use cases (Idempotency-Key included) as
POST /v1/submissions, so the rules and their messages are the API's; a named refusal becomes a
Vietnamese page here.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.errors import Conflict, Forbidden, NotFound
from baocao_shared.http.deps import Now
from baocao_shared.principal import Principal, Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from intake.deps import Uow
from intake.domain.errors import (
    PeriodNotReportable,
    PlanNotForUnit,
    ReportInvalid,
    ReportNotReadable,
    SubmissionNotFound,
    UnitNotInCatalogue,
)
from intake.domain.models import AmendmentIn, SubmissionIn
from intake.handlers import submissions, unit_form
from intake.handlers.unit_form import UnitReport
from intake.web import audit, session, views
from intake.web.pages import TEMPLATES, PageError, PagePrincipal, Reporter, install_handlers

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the web pages to intake: sign-in, the unit's form, /static and the error pages."""
    install_handlers(app)
    app.include_router(session.router)
    app.include_router(router)
    app.include_router(audit.router)  # Nhật ký, for operators


NOT_FOUND = "Không tìm thấy"


def _not_found_page(exc: NotFound) -> PageError:
    """The Vietnamese page of a unit-form refusal."""
    match exc:
        case UnitNotInCatalogue():
            return PageError(404, NOT_FOUND, "Đơn vị của tài khoản này không có trong danh mục.")
        case PlanNotForUnit():
            return PageError(404, NOT_FOUND, "Đơn vị không báo cáo theo kế hoạch này.")
        case PeriodNotReportable(reason=reason):
            return PageError(404, "Không có kỳ báo cáo này", reason)
    return PageError(404, NOT_FOUND, "Không tìm thấy báo cáo này trong các báo cáo của đơn vị.")


async def _unit_report(uow: Uow, principal: Principal, plan_id: str, period: str, now) -> UnitReport:
    try:
        async with uow:
            return await unit_form.unit_report(uow, principal=principal, plan_id=plan_id, period=period, now=now)
    except (UnitNotInCatalogue, PlanNotForUnit, PeriodNotReportable) as exc:
        raise _not_found_page(exc) from None


@router.get("/")
async def home(request: Request, principal: PagePrincipal, uow: Uow, now: Now, tat_ca: bool = False) -> Response:
    if principal.role is not Role.REPORTER:
        return render(TEMPLATES, request, "home_other.html", {"title": "Nộp báo cáo"})
    try:
        async with uow:
            province, unit = await unit_form.unit_of(uow, principal=principal)
            found = await unit_form.unit_plans(uow, principal=principal)
    except UnitNotInCatalogue as exc:
        raise _not_found_page(exc) from None
    plans = []
    for p in found:
        rows = views.period_rows(p.plan, province.timezone, now, p.submitted, p.locked, p.excepted)
        plans.append((p.plan, *views.shown_rows(rows, show_all=tat_ca)))
    context = {"title": "Kỳ báo cáo của đơn vị", "province": province, "unit": unit, "plans": plans, "all": tat_ca}
    return render(TEMPLATES, request, "home_unit.html", context)


REPORT = "/bao-cao/{plan_id}/{period}"


def _form_page(request: Request, report: UnitReport, inputs: dict, now, **kw) -> Response:
    details, message, status = kw.pop("details", None), kw.pop("message", None), kw.pop("status_code", 200)
    due = due_at(
        parse_period(report.period, report.plan.calendar.frequency), report.plan.calendar, report.province.timezone
    )
    context = {
        "title": f"Báo cáo kỳ {report.period}",
        "report": report,
        "form": views.report_form(report.plan, inputs, details),
        "deadline": views.deadline_text(due, report.province.timezone),
        "overdue": now >= due,
        "message": message,
        "idempotency_key": str(uuid.uuid4()),  # new per render: a double click sends one key twice
        "base_version": report.existing.version if report.existing else None,
    }
    return render(TEMPLATES, request, "report_form.html", context, status_code=status)


@router.get(REPORT)
async def report_form(request: Request, plan_id: str, period: str, principal: Reporter, uow: Uow, now: Now) -> Response:
    report = await _unit_report(uow, principal, plan_id, period, now)
    return _form_page(request, report, views.stored_inputs(report.existing), now)


@router.post(REPORT)
async def post_report(
    request: Request, plan_id: str, period: str, form: CsrfForm, principal: Reporter, uow: Uow, now: Now
) -> Response:
    report = await _unit_report(uow, principal, plan_id, period, now)
    values, narratives, raw = views.read_form(report.plan, form)
    key = str(form.get("idempotency_key") or uuid.uuid4())[:200]
    base = str(form.get("base_version") or "")
    try:
        async with uow:
            if base.isdigit() and report.existing is not None:
                amendment = AmendmentIn(values=values, narratives=narratives, base_version=int(base))
                answer = await submissions.amend_once(
                    uow, principal=principal, submission_id=report.existing.id, body=amendment, now=now, key=key
                )
            else:
                body = SubmissionIn(
                    plan_id=plan_id, unit=report.unit.code, period=period, values=values, narratives=narratives
                )
                answer = await submissions.submit_once(uow, principal=principal, body=body, now=now, key=key)
    except ReportInvalid as exc:
        return _form_page(request, report, raw, now, details=exc.problems, status_code=422)
    except Conflict as exc:
        return _form_page(request, report, raw, now, message=views.conflict_message(exc), status_code=409)
    except (Forbidden, NotFound) as exc:
        status = 403 if isinstance(exc, Forbidden) else 404
        raise PageError(status, "Không thể lưu báo cáo", "Tài khoản này không được nộp báo cáo này.") from None
    return redirect(request, f"/bien-nhan/{answer.receipt.id}?v={answer.receipt.version}")


@router.get("/bien-nhan/{submission_id}")
async def receipt(request: Request, submission_id: uuid.UUID, principal: PagePrincipal, uow: Uow, v: int | None = None):
    try:
        async with uow:
            submission, province, plan = await unit_form.receipt(uow, principal=principal, submission_id=submission_id)
    except (SubmissionNotFound, ReportNotReadable) as exc:
        raise _not_found_page(exc) from None
    version = next((h for h in submission.history if h.version == v), submission.history[-1])
    context = {
        "title": "Đã nhận báo cáo",
        "submission": submission,
        "version": version,
        "plan": plan,
        "timezone": province.timezone if province else "Asia/Ho_Chi_Minh",
    }
    return render(TEMPLATES, request, "receipt.html", context)


@router.get(REPORT + "/lich-su")
async def report_history(request: Request, plan_id: str, period: str, principal: Reporter, uow: Uow, now: Now):
    report = await _unit_report(uow, principal, plan_id, period, now)
    if report.existing is None:
        raise PageError(404, "Chưa có báo cáo", f"Đơn vị chưa nộp báo cáo kỳ {period}.")
    try:
        async with uow:
            submission = await submissions.get(uow, principal=principal, submission_id=report.existing.id)
    except (SubmissionNotFound, ReportNotReadable) as exc:
        raise _not_found_page(exc) from None
    context = {
        "title": f"Lịch sử báo cáo kỳ {period}",
        "report": report,
        "submission": submission,
        "versions": views.history(report.plan, submission.history),
    }
    return render(TEMPLATES, request, "history.html", context)
