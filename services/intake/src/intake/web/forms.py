"""The report form, its history and what a posted form does: shared by the unit's own pages (`routes.py`, under
/bao-cao) and the office's entry on a unit's behalf (`on_behalf.py`, under /bao-cao/nhap-ho/<unit>).

A posted form goes to the same `submit_once` / `amend_once` use cases (Idempotency-Key included) as
POST /v1/submissions, so the rules and their messages are the API's; a named refusal becomes a Vietnamese page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.errors import Conflict, Forbidden, NotFound
from baocao_shared.principal import Principal
from baocao_shared.web import redirect, render
from intake.adapters.uow import IntakeUnitOfWork
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
from intake.web import views
from intake.web.pages import TEMPLATES, PageError

NOT_FOUND = "Không tìm thấy"
SOURCES = {"paper": "giấy", "email": "email"}  # where a report the office enters came from (nguồn)


@dataclass(frozen=True)
class Where:
    """Whose report pages these are: the unit's own (`office` None) or its province's office entering for it."""

    unit: str | None = None  # None: the signed-in reporter's own unit

    @property
    def office(self) -> bool:
        return self.unit is not None

    @property
    def base(self) -> str:
        """The path under which the unit's report pages live: /bao-cao/<plan>/<period>[/lich-su]."""
        return f"/bao-cao/nhap-ho/{self.unit}" if self.unit else "/bao-cao"

    @property
    def home(self) -> str:
        return f"/bao-cao/nhap-ho?don_vi={self.unit}" if self.unit else "/"


def not_found_page(exc: NotFound) -> PageError:
    """The Vietnamese page of a unit-form refusal."""
    match exc:
        case UnitNotInCatalogue():
            return PageError(404, NOT_FOUND, "Đơn vị không có trong danh mục.")
        case PlanNotForUnit():
            return PageError(404, NOT_FOUND, "Đơn vị không báo cáo theo kế hoạch này.")
        case PeriodNotReportable(reason=reason):
            return PageError(404, "Không có kỳ báo cáo này", reason)
    return PageError(404, NOT_FOUND, "Không tìm thấy báo cáo này trong các báo cáo của đơn vị.")


async def unit_report(
    uow: IntakeUnitOfWork, principal: Principal, plan_id: str, period: str, now: datetime, where: Where
) -> UnitReport:
    try:
        async with uow:
            return await unit_form.unit_report(
                uow, principal=principal, plan_id=plan_id, period=period, now=now, unit=where.unit
            )
    except (UnitNotInCatalogue, PlanNotForUnit, PeriodNotReportable) as exc:
        raise not_found_page(exc) from None


def form_page(request: Request, report: UnitReport, inputs: dict, now: datetime, where: Where, **kw) -> Response:
    details, message, status = kw.pop("details", None), kw.pop("message", None), kw.pop("status_code", 200)
    due = due_at(
        parse_period(report.period, report.plan.calendar.frequency), report.plan.calendar, report.province.timezone
    )
    context = {
        "title": f"Nhập hộ báo cáo kỳ {report.period}" if where.office else f"Báo cáo kỳ {report.period}",
        "report": report,
        "where": where,
        "sources": SOURCES,
        "source": kw.pop("source", None),
        "form": views.report_form(report.plan, inputs, details),
        "deadline": views.deadline_text(due, report.province.timezone),
        "overdue": now >= due,
        "message": message,
        "idempotency_key": str(uuid.uuid4()),  # new per render: a double click sends one key twice
        "base_version": report.existing.version if report.existing else None,
    }
    return render(TEMPLATES, request, "report_form.html", context, status_code=status)


async def post_form(
    request: Request, report: UnitReport, form: FormData, principal: Principal, uow: IntakeUnitOfWork, now, where: Where
) -> Response:
    """Send the posted form as the unit's report (or the office's entry on its behalf); the receipt, or the form
    again with what to fix."""
    values, narratives, raw = views.read_form(report.plan, form)
    key = str(form.get("idempotency_key") or uuid.uuid4())[:200]
    base = str(form.get("base_version") or "")
    source = str(form.get("source") or "") if where.office else ""
    source = source if source in SOURCES else None
    try:
        async with uow:
            if base.isdigit() and report.existing is not None:
                amendment = AmendmentIn(values=values, narratives=narratives, base_version=int(base), source=source)
                answer = await submissions.amend_once(
                    uow, principal=principal, submission_id=report.existing.id, body=amendment, now=now, key=key
                )
            else:
                body = SubmissionIn(
                    plan_id=report.plan.id, unit=report.unit.code, period=report.period, values=values,
                    narratives=narratives, province=report.province.code if where.office else None, source=source,
                )  # fmt: skip
                answer = await submissions.submit_once(uow, principal=principal, body=body, now=now, key=key)
    except ReportInvalid as exc:
        return form_page(request, report, raw, now, where, details=exc.problems, status_code=422, source=source)
    except Conflict as exc:
        message = views.conflict_message(exc)
        return form_page(request, report, raw, now, where, message=message, status_code=409, source=source)
    except (Forbidden, NotFound) as exc:
        status = 403 if isinstance(exc, Forbidden) else 404
        raise PageError(status, "Không thể lưu báo cáo", "Tài khoản này không được nộp báo cáo này.") from None
    return redirect(request, f"/bien-nhan/{answer.receipt.id}?v={answer.receipt.version}")


async def history_page(
    request: Request, report: UnitReport, principal: Principal, uow: IntakeUnitOfWork, where: Where
) -> Response:
    if report.existing is None:
        raise PageError(404, "Chưa có báo cáo", f"Đơn vị chưa nộp báo cáo kỳ {report.period}.")
    try:
        async with uow:
            submission = await submissions.get(uow, principal=principal, submission_id=report.existing.id)
    except (SubmissionNotFound, ReportNotReadable) as exc:
        raise not_found_page(exc) from None
    context = {
        "title": f"Lịch sử báo cáo kỳ {report.period}",
        "report": report,
        "where": where,
        "submission": submission,
        "versions": views.history(report.plan, submission.history),
    }
    return render(TEMPLATES, request, "history.html", context)
