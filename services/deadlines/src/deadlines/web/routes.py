"""The staff office's compliance dashboard (tiến độ báo cáo): who reported a period, on time or late.

Thin like the API: the pages call the same use cases (and the nudge form the same NudgeIn checks) as
GET /v1/compliance and POST /v1/nudges, and explain their named refusals in Vietnamese.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import re
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baocao_shared.http.deps import Now
from baocao_shared.principal import Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from deadlines.deps import Uow
from deadlines.domain.errors import (
    ComplianceNotVisible,
    NotTheProvincesOperator,
    PeriodMalformed,
    PeriodNotOpen,
    PeriodNotTracked,
    PlanAmbiguous,
    UnitsOweNothing,
    UnknownPlan,
    UnknownProvince,
)
from deadlines.handlers import dashboard as boards
from deadlines.handlers import nudges
from deadlines.handlers.nudges import NudgeIn
from deadlines.web import national, system
from deadlines.web.dashboard import dashboard as draw_dashboard
from deadlines.web.pages import TEMPLATES, PageError, PagePrincipal, install_handlers, intake_url

router = APIRouter(include_in_schema=False)
DASHBOARD = "/tien-do"
MAX_LISTED = 10  # skipped units named in the flash message
NOT_A_READER = (
    "Tiến độ báo cáo của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
    "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
)


def install(app: FastAPI) -> None:
    """Add the pages to deadlines: /, /tien-do and its nudge form, the national office's /tien-do/quoc-gia and its
    nudge form, the operators' /he-thong, /static, errors."""
    install_handlers(app)
    app.include_router(router)
    app.include_router(national.router)
    app.include_router(system.router)


def dashboard_url(province: str, plan_id: str | None = None, period: str | None = None) -> str:
    query = {"province": province, "plan_id": plan_id, "period": period}
    return f"{DASHBOARD}?{urlencode({k: v for k, v in query.items() if v})}"


def not_a_reader() -> PageError:
    return PageError(403, "Không có quyền xem trang này", NOT_A_READER)


@router.get("/")
async def home(request: Request, principal: PagePrincipal, uow: Uow) -> Response:
    if principal.role is Role.REPORTER:
        context = {"title": "Tiến độ báo cáo", "intake_url": intake_url(request)}
        return render(TEMPLATES, request, "home_reporter.html", context)
    if principal.role is Role.PROVINCE_OPERATOR:
        return redirect(request, dashboard_url(principal.province or ""))
    async with uow:
        provinces = await boards.provinces(uow)
    return render(TEMPLATES, request, "home_provinces.html", {"title": "Chọn tỉnh", "provinces": provinces})


@router.get(DASHBOARD)
async def dashboard(
    request: Request,
    principal: PagePrincipal,
    uow: Uow,
    now: Now,
    province: str = "",
    period: str | None = None,
    plan_id: str | None = None,
) -> Response:
    if not province:  # the start page of the navigation bar: the right place for the role
        return await home(request, principal, uow)
    if not re.fullmatch(r"\d{2}", province):
        raise PageError(404, "Không tìm thấy tỉnh", "Địa chỉ trang cần mã tỉnh gồm 2 chữ số, ví dụ ?province=30.")
    try:
        async with uow:
            found = await boards.board(
                uow, principal=principal, province=province, plan_id=plan_id, period=period, now=now
            )
    except ComplianceNotVisible:
        raise not_a_reader() from None
    except UnknownProvince:
        raise PageError(404, "Không tìm thấy tỉnh", f"Tỉnh mã {province} chưa có trong danh mục.") from None
    except UnknownPlan as unknown:
        raise PageError(
            404, "Không tìm thấy kế hoạch", f"Tỉnh {unknown.province_name} không có kế hoạch này."
        ) from None
    except PeriodNotTracked as untracked:  # history before tracking, not open until a date, outside the plan
        raise PageError(
            404,
            "Kỳ báo cáo không được theo dõi",
            untracked.message,
            back_url=dashboard_url(province, untracked.plan_id),
            back_label="Về kỳ báo cáo gần nhất",
        ) from None
    except PeriodMalformed as malformed:
        raise PageError(404, "Không có kỳ báo cáo này", f"Kỳ {malformed.period[:10]} không hợp lệ.") from None
    except PeriodNotOpen as closed:
        raise PageError(
            404,
            "Không có kỳ báo cáo này",
            f"Kỳ {closed.period[:10]} chưa được mở cho kế hoạch này.",
            back_url=dashboard_url(province, closed.plan_id),
            back_label="Về kỳ báo cáo gần nhất",
        ) from None
    if found.plan is None:
        context = {"title": "Chọn kế hoạch", "province": found.province, "plans": found.plans, "url": dashboard_url}
        return render(TEMPLATES, request, "plans.html", context)
    if found.period is None:
        context = {"title": "Tiến độ báo cáo", "province": found.province, "plan": found.plan}
        return render(TEMPLATES, request, "no_period.html", context)
    context = {
        "title": f"Tiến độ báo cáo kỳ {found.period}",
        "board": draw_dashboard(found),
        "can_nudge": principal.may_operate_province(province),
        "url": lambda p: dashboard_url(province, found.plan.id, p),
    }
    return render(TEMPLATES, request, "dashboard.html", context)


def nudge_flash(sent: list[str], skipped: list[dict]) -> str:
    text = f"Đã gửi nhắc nhở tới {len(sent)} đơn vị."
    if skipped:
        codes = [s["unit"] for s in skipped]
        listed = ", ".join(codes[:MAX_LISTED]) + (", …" if len(codes) > MAX_LISTED else "")
        text += f" Không gửi cho {len(codes)} đơn vị đã nộp báo cáo: {listed}."
    return text


def nudge_problem(invalid: ValidationError) -> str:
    """What to change in the nudge form, in Vietnamese: the message's own problem when it has one."""
    for error in invalid.errors():
        if error["loc"][:1] == ("message",):
            if error["type"] == "string_too_long":
                return "Lời nhắn dài quá 2.000 ký tự; vui lòng rút gọn rồi gửi lại."
            if error["type"] == "value_error":
                return str(error["ctx"]["error"])
    return "Biểu mẫu đôn đốc không hợp lệ (tỉnh, kỳ hoặc đơn vị); vui lòng tải lại trang tiến độ."


@router.post(DASHBOARD + "/nhac")
async def post_nudge(request: Request, form: CsrfForm, principal: PagePrincipal, uow: Uow, now: Now) -> Response:
    province = str(form.get("province") or "")
    back = dashboard_url(province, str(form.get("plan_id") or "") or None, str(form.get("period") or "") or None)
    try:  # before reading the form: who may not nudge learns that first
        nudges.check_may_nudge(principal, province)
    except NotTheProvincesOperator as refused:
        if not refused.oversees:
            raise not_a_reader() from None
        raise PageError(
            403, "Không có quyền đôn đốc", "Chỉ cơ quan thường trực của tỉnh mới gửi nhắc nhở tới các đơn vị."
        ) from None
    units = [str(u) for u in form.getlist("units")]
    if not units:
        return redirect(request, back, flash="Chưa chọn đơn vị nào nên chưa gửi nhắc nhở.")
    try:
        order = NudgeIn(
            province=province,
            period=str(form.get("period") or ""),
            units=units,
            plan_id=str(form.get("plan_id") or "") or None,
            message=str(form.get("message") or "").strip() or None,
        )
    except ValidationError as invalid:
        raise PageError(
            422,
            "Chưa gửi được nhắc nhở",
            nudge_problem(invalid),
            back_url=back,
            back_label="Quay lại trang tiến độ",
        ) from None
    try:
        async with uow:
            result = await nudges.nudge(uow, principal=principal, order=order, now=now)
    except (UnknownPlan, PlanAmbiguous, UnitsOweNothing):
        raise PageError(
            422,
            "Chưa gửi được nhắc nhở",
            "Có đơn vị được chọn không phải báo cáo kỳ này, hoặc kỳ báo cáo chưa được mở.",
            back_url=back,
            back_label="Quay lại trang tiến độ",
        ) from None
    return redirect(request, back, flash=nudge_flash(result["sent"], result["skipped"]))
