"""The units' web form (biểu mẫu nộp báo cáo): their periods, the report form, receipt and history.

Thin like the API: each page reads through the catalogue and submission use cases, and a posted
form goes to the same `submit` / `amend` use cases (and Idempotency-Key handling) as
POST/PUT /v1/submissions, so the rules and their messages are the API's.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from baocao_shared.events.catalog import PlanV1, ProvinceV1, UnitV1
from baocao_shared.http.deps import Db, Now
from baocao_shared.principal import Principal, Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from intake.domain import submissions as rules
from intake.domain.submissions import request_fingerprint
from intake.handlers import catalog, idempotency
from intake.handlers import submissions as use_cases
from intake.handlers.submissions import AmendmentIn, Receipt, SubmissionIn, SubmissionOut
from intake.web import audit, session, views
from intake.web.pages import TEMPLATES, PageError, PagePrincipal, Reporter, install_handlers

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the web pages to intake: sign-in, the unit's form, /static and the error pages."""
    install_handlers(app)
    app.include_router(session.router)
    app.include_router(router)
    app.include_router(audit.router)  # Nhật ký, for operators


@dataclass
class UnitReport:
    """A unit's plan and one of its periods, with the report stored for it (if any)."""

    province: ProvinceV1
    unit: UnitV1
    plan: PlanV1
    period: str
    existing: SubmissionOut | None
    locked: bool


NOT_FOUND = "Không tìm thấy"


async def _unit(db: AsyncSession, principal: Principal) -> tuple[ProvinceV1, UnitV1]:
    province = await catalog.get_province(db, principal.province or "")
    unit = await catalog.get_unit(db, principal.province or "", principal.unit or "")
    if province is None or unit is None:
        raise PageError(404, NOT_FOUND, "Đơn vị của tài khoản này không có trong danh mục.")
    return province, unit


async def _unit_plans(db: AsyncSession, principal: Principal) -> list[PlanV1]:
    return [p for p in await catalog.list_plans(db, principal.province or "") if principal.unit in p.units]


async def _unit_report(db: AsyncSession, principal: Principal, plan_id: str, period: str, now) -> UnitReport:
    province, unit = await _unit(db, principal)
    plan = next((p for p in await _unit_plans(db, principal) if p.id == plan_id), None)
    if plan is None:
        raise PageError(404, NOT_FOUND, "Đơn vị không báo cáo theo kế hoạch này.")
    if problems := rules.check_period(plan, period, province.timezone, now):
        raise PageError(404, "Không có kỳ báo cáo này", problems[0].msg)
    found = await use_cases.search(
        db, principal=principal, province=None, unit=None, period=period, plan_id=plan_id, limit=1
    )
    existing = found[0] if found else None
    locked = existing.locked if existing else await use_cases.is_locked(db, province.code, plan_id, period)
    return UnitReport(province, unit, plan, period, existing, locked)


@router.get("/")
async def home(request: Request, principal: PagePrincipal, db: Db, now: Now) -> Response:
    if principal.role is not Role.REPORTER:
        return render(TEMPLATES, request, "home_other.html", {"title": "Nộp báo cáo"})
    async with db.begin():
        province, unit = await _unit(db, principal)
        plans = []
        for plan in await _unit_plans(db, principal):
            stored = await use_cases.search(
                db, principal=principal, province=None, unit=None, period=None, plan_id=plan.id, limit=1000
            )
            submitted = {s.period: s for s in stored}
            periods = views.reportable_periods(plan, province.timezone, now)
            locked = {p.code for p in periods if await use_cases.is_locked(db, province.code, plan.id, p.code)}
            plans.append((plan, views.period_rows(plan, province.timezone, now, submitted, locked)))
    context = {"title": "Kỳ báo cáo của đơn vị", "province": province, "unit": unit, "plans": plans}
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
async def report_form(request: Request, plan_id: str, period: str, principal: Reporter, db: Db, now: Now) -> Response:
    async with db.begin():
        report = await _unit_report(db, principal, plan_id, period, now)
    return _form_page(request, report, views.stored_inputs(report.existing), now)


@router.post(REPORT)
async def post_report(
    request: Request, plan_id: str, period: str, form: CsrfForm, principal: Reporter, db: Db, now: Now
) -> Response:
    async with db.begin():
        report = await _unit_report(db, principal, plan_id, period, now)
    values, narratives, raw = views.read_form(report.plan, form)
    key = str(form.get("idempotency_key") or uuid.uuid4())[:200]
    base = str(form.get("base_version") or "")
    try:
        async with db.begin():
            if base.isdigit() and report.existing is not None:
                body = AmendmentIn(values=values, narratives=narratives, base_version=int(base))
                receipt = await _once(
                    db,
                    principal,
                    key,
                    {"submission_id": str(report.existing.id), **body.model_dump(mode="json")},
                    lambda: use_cases.amend(
                        db, principal=principal, submission_id=report.existing.id, body=body, now=now
                    ),
                )
            else:
                body = SubmissionIn(
                    plan_id=plan_id, unit=report.unit.code, period=period, values=values, narratives=narratives
                )
                receipt = await _once(
                    db,
                    principal,
                    key,
                    body.model_dump(mode="json"),
                    lambda: use_cases.submit(db, principal=principal, body=body, now=now),
                )
    except Unprocessable as exc:
        details = exc.details if isinstance(exc.details, list) else []
        return _form_page(request, report, raw, now, details=details, status_code=422)
    except Conflict as exc:
        return _form_page(request, report, raw, now, message=views.conflict_message(exc), status_code=409)
    except (Forbidden, NotFound) as exc:
        raise PageError(exc.status, "Không thể lưu báo cáo", "Tài khoản này không được nộp báo cáo này.") from None
    return redirect(request, f"/bien-nhan/{receipt.id}?v={receipt.version}")


async def _once(
    db: AsyncSession, principal: Principal, key: str, request_body: dict, save: Callable[[], Awaitable[Receipt]]
) -> Receipt:
    """Run `save` once per Idempotency-Key, as POST /v1/submissions does; a repeat gets the first receipt."""
    owner = principal.subject
    replay = await idempotency.claim(db, owner=owner, key=key, fingerprint=request_fingerprint(request_body))
    if replay is not None:
        return Receipt.model_validate(replay.body)
    receipt = await save()
    await idempotency.remember(db, owner=owner, key=key, status_code=201, body=receipt.model_dump(mode="json"))
    return receipt


async def _submission(db: AsyncSession, principal: Principal, submission_id: uuid.UUID) -> SubmissionOut:
    try:
        return await use_cases.get(db, principal=principal, submission_id=submission_id)
    except (NotFound, Forbidden):
        raise PageError(404, NOT_FOUND, "Không tìm thấy báo cáo này trong các báo cáo của đơn vị.") from None


@router.get("/bien-nhan/{submission_id}")
async def receipt(request: Request, submission_id: uuid.UUID, principal: PagePrincipal, db: Db, v: int | None = None):
    async with db.begin():
        submission = await _submission(db, principal, submission_id)
        province = await catalog.get_province(db, submission.province)
        plan = await catalog.get_plan(db, submission.province, submission.plan_id)
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
async def report_history(request: Request, plan_id: str, period: str, principal: Reporter, db: Db, now: Now):
    async with db.begin():
        report = await _unit_report(db, principal, plan_id, period, now)
        if report.existing is None:
            raise PageError(404, "Chưa có báo cáo", f"Đơn vị chưa nộp báo cáo kỳ {period}.")
        submission = await _submission(db, principal, report.existing.id)
    context = {
        "title": f"Lịch sử báo cáo kỳ {period}",
        "report": report,
        "submission": submission,
        "versions": views.history(report.plan, submission.history),
    }
    return render(TEMPLATES, request, "history.html", context)
