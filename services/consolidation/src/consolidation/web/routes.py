"""The consolidated report's pages (báo cáo tổng hợp): the province's report with its workflow, the national view.

Thin like the API: pages read through the same use cases (`current`, `national`), and the two forms
call `approve` and `publish`. Every refusal is a page in Vietnamese.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.http.deps import Db, Now
from baocao_shared.principal import Principal, Role
from baocao_shared.web import csrf, redirect, render
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PageError, PagePrincipal, intake_url
from consolidation.adapters import orm
from consolidation.domain.workflow import LABELS
from consolidation.handlers import reports as use_cases
from consolidation.web import lookups
from consolidation.web.national_view import national_context, national_page, report_page
from consolidation.web.pages import TEMPLATES
from consolidation.web.report_view import report_context

router = APIRouter(include_in_schema=False)
ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$")]
Period = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$")]
FORBIDDEN_TITLE = "Không có quyền xem trang này"
DONE = {"approve": "Đã duyệt báo cáo.", "publish": "Đã gửi báo cáo lên Văn phòng Thường trực."}
NOT_NOW = {
    "approve": "Chưa duyệt được: báo cáo đang ở trạng thái “{status}”, chỉ duyệt được bản dự thảo.",
    "publish": "Chưa gửi được: báo cáo đang ở trạng thái “{status}”, chỉ gửi lên được báo cáo đã duyệt.",
}


@router.get("/")
@router.get("/tong-hop")  # the start page of the navigation bar (a path no other service serves)
async def home(request: Request, principal: PagePrincipal, db: Db, now: Now) -> Response:
    if principal.role is Role.REPORTER:
        context = {"title": "Báo cáo tổng hợp", "intake_url": intake_url(request)}
        return render(TEMPLATES, request, "home_reporter.html", context)
    async with db.begin():
        if principal.role is Role.PROVINCE_OPERATOR:
            period = await lookups.latest_period(db, now, principal.province)
            return redirect(request, report_page(principal.province or "", period))
        return redirect(request, national_page(await lookups.latest_period(db, now)))


def _check_reader(principal: Principal, province: str) -> None:
    if principal.role is Role.REPORTER or not principal.may_read_province(province):
        raise PageError(
            403,
            FORBIDDEN_TITLE,
            "Báo cáo tổng hợp của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
            "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ.",
        )


async def _report(db: AsyncSession, province: str, period: str, plan_id: str | None, now: datetime):
    """The report, or None when the province has several plans and the address names none."""
    try:
        return await use_cases.current(db, province=province, plan_id=plan_id, period=period, now=now)
    except NotFound:
        message = f"Chưa có kế hoạch báo cáo này của tỉnh mã {province}."
        raise PageError(404, "Không tìm thấy báo cáo", message) from None
    except Unprocessable:
        if plan_id is None and len(await replica.plans_of(db, orm.plans, province)) > 1:
            return None
        raise PageError(404, "Không tìm thấy báo cáo", f"Kỳ báo cáo {period} không hợp lệ với kế hoạch này.") from None


@router.get("/tong-hop/{province}/{period}")
async def report(
    request: Request,
    province: ProvinceCode,
    period: Period,
    principal: PagePrincipal,
    db: Db,
    now: Now,
    plan_id: str | None = None,
) -> Response:
    _check_reader(principal, province)
    async with db.begin():
        found = await _report(db, province, period, plan_id, now)
        if found is None:
            place = await replica.province(db, orm.provinces, province)
            plans = await replica.plans_of(db, orm.plans, province)
            links = [(p, report_page(province, period, p.id)) for p in plans]
            context = {"title": "Chọn kế hoạch", "province": place, "period": period, "plans": links}
            return render(TEMPLATES, request, "plans.html", context)
        issued = await use_cases.issue_date(db, found, now=now)
    if principal.role is Role.NATIONAL_OPERATOR and found.status != "published":
        raise PageError(
            403,
            "Báo cáo chưa được gửi lên",
            f"Tỉnh {found.province_name} chưa gửi báo cáo kỳ {period} lên Văn phòng Thường trực.",
            back_url=national_page(period),
            back_label="Về trang tổng hợp toàn quốc",
        )
    return render(TEMPLATES, request, "report.html", _context(request, found, principal, issued))


def _context(request: Request, report: ConsolidatedReportV1, principal: Principal, issued: date) -> dict:
    operates = principal.may_operate_province(report.province)
    return report_context(
        report,
        issued_on=issued,  # as the .docx does
        can_approve=operates and report.status == "draft",
        can_publish=operates and report.status == "approved",
        csrf_token=csrf.token(request),
    )


async def _act(action: str, request, province, period, form, principal: Principal, db, now) -> Response:
    plan_id = str(form.get("plan_id") or "") or None
    back = report_page(province, period, plan_id)
    _check_reader(principal, province)
    step = use_cases.approve if action == "approve" else use_cases.publish
    try:
        async with db.begin():
            await step(db, principal=principal, province=province, plan_id=plan_id, period=period, now=now)
    except Forbidden:
        raise PageError(
            403,
            "Không có quyền duyệt hoặc gửi báo cáo",
            "Chỉ cơ quan thường trực của tỉnh mới duyệt và gửi báo cáo tổng hợp của tỉnh.",
            back_url=back,
            back_label="Quay lại báo cáo",
        ) from None
    except Conflict as exc:
        status = (exc.details or {}).get("status", "")
        return redirect(request, back, flash=NOT_NOW[action].format(status=LABELS.get(status, status)))
    except (NotFound, Unprocessable):
        raise PageError(404, "Không tìm thấy báo cáo", "Không tìm thấy báo cáo này.", back_url="/tong-hop") from None
    return redirect(request, back, flash=DONE[action])


@router.post("/tong-hop/{province}/{period}/duyet")
async def approve(
    request: Request, province: ProvinceCode, period: Period, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now
) -> Response:
    return await _act("approve", request, province, period, form, principal, db, now)


@router.post("/tong-hop/{province}/{period}/gui")
async def publish(
    request: Request, province: ProvinceCode, period: Period, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now
) -> Response:
    return await _act("publish", request, province, period, form, principal, db, now)


@router.get("/quoc-gia/{period}")
async def national(request: Request, period: Period, principal: PagePrincipal, db: Db, now: Now) -> Response:
    if principal.role not in (Role.NATIONAL_OPERATOR, Role.ADMIN):
        raise PageError(
            403, FORBIDDEN_TITLE, "Trang tổng hợp toàn quốc dành cho Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
        )
    async with db.begin():
        roll_up = await use_cases.national(db, period=period)
        labels = lookups.indicator_labels(await lookups.active_plans(db))
    periods = lookups.recent_months(now)
    context = national_context(roll_up, labels, periods)
    return render(TEMPLATES, request, "national.html", context)
