"""The staff office's compliance dashboard (tiến độ báo cáo): who reported a period, on time or late.

Thin like the API: pages read through the compliance use cases, and the nudge form goes to the same
`nudge` use case (and the same NudgeIn checks) as POST /v1/nudges.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import re
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.errors import NotFound, Unprocessable
from baocao_shared.events.catalog import PlanV1, ProvinceV1
from baocao_shared.http.deps import Db, Now
from baocao_shared.principal import Principal, Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from deadlines.api.routes import NudgeIn
from deadlines.handlers import compliance as use_cases
from deadlines.web import system
from deadlines.web.dashboard import default_period, load_dashboard
from deadlines.web.pages import TEMPLATES, PageError, PagePrincipal, install_handlers, intake_url

router = APIRouter(include_in_schema=False)
DASHBOARD = "/tien-do"
MAX_LISTED = 10  # skipped units named in the flash message


def install(app: FastAPI) -> None:
    """Add the pages to deadlines: /, /tien-do and its nudge form, the operators' /he-thong, /static, errors."""
    install_handlers(app)
    app.include_router(router)
    app.include_router(system.router)


def dashboard_url(province: str, plan_id: str | None = None, period: str | None = None) -> str:
    query = {"province": province, "plan_id": plan_id, "period": period}
    return f"{DASHBOARD}?{urlencode({k: v for k, v in query.items() if v})}"


@router.get("/")
async def home(request: Request, principal: PagePrincipal, db: Db) -> Response:
    if principal.role is Role.REPORTER:
        context = {"title": "Tiến độ báo cáo", "intake_url": intake_url(request)}
        return render(TEMPLATES, request, "home_reporter.html", context)
    if principal.role is Role.PROVINCE_OPERATOR:
        return redirect(request, dashboard_url(principal.province or ""))
    async with db.begin():
        provinces = await use_cases.known_provinces(db)
    return render(TEMPLATES, request, "home_provinces.html", {"title": "Chọn tỉnh", "provinces": provinces})


def _check_reader(principal: Principal, province: str) -> None:
    if principal.role is Role.REPORTER or not principal.may_read_province(province):
        raise PageError(
            403,
            "Không có quyền xem trang này",
            "Tiến độ báo cáo của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
            "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ.",
        )


async def _province(db: AsyncSession, code: str) -> ProvinceV1:
    found = next((p for p in await use_cases.known_provinces(db) if p.code == code), None)
    if found is None:
        raise PageError(404, "Không tìm thấy tỉnh", f"Tỉnh mã {code} chưa có trong danh mục.")
    return found


async def _plan(db: AsyncSession, province: ProvinceV1, plans: list[PlanV1], plan_id: str | None) -> PlanV1 | None:
    """The plan asked for, or the province's only one; None when it has several and the address names none."""
    try:
        plan_id = await use_cases.resolve_plan(db, province.code, plan_id)
    except NotFound:
        raise PageError(404, "Không tìm thấy kế hoạch", f"Tỉnh {province.name} không có kế hoạch này.") from None
    except Unprocessable:
        return None
    return next(p for p in plans if p.id == plan_id)


@router.get(DASHBOARD)
async def dashboard(
    request: Request,
    principal: PagePrincipal,
    db: Db,
    now: Now,
    province: str = "",
    period: str | None = None,
    plan_id: str | None = None,
) -> Response:
    if not province:  # the start page of the navigation bar: the right place for the role
        return await home(request, principal, db)
    if not re.fullmatch(r"\d{2}", province):
        raise PageError(404, "Không tìm thấy tỉnh", "Địa chỉ trang cần mã tỉnh gồm 2 chữ số, ví dụ ?province=30.")
    _check_reader(principal, province)
    async with db.begin():
        found = await _province(db, province)
        plans = await use_cases.active_plans(db, province)
        plan = await _plan(db, found, plans, plan_id)
        if plan is None:
            context = {"title": "Chọn kế hoạch", "province": found, "plans": plans, "url": dashboard_url}
            return render(TEMPLATES, request, "plans.html", context)
        opened = await use_cases.opened_periods(db, province=province, plan_id=plan.id)
        period = period or default_period(opened, now)
        if period is None:
            context = {"title": "Tiến độ báo cáo", "province": found, "plan": plan}
            return render(TEMPLATES, request, "no_period.html", context)
        if period not in {p.period for p in opened}:
            raise PageError(
                404,
                "Không có kỳ báo cáo này",
                f"Kỳ {period[:10]} chưa được mở cho kế hoạch này.",
                back_url=dashboard_url(province, plan.id),
                back_label="Về kỳ báo cáo gần nhất",
            )
        board = await load_dashboard(
            db, province=found, plan=plan, period=period, periods=[p.period for p in opened], now=now
        )
    context = {
        "title": f"Tiến độ báo cáo kỳ {period}",
        "board": board,
        "can_nudge": principal.may_operate_province(province),
        "url": lambda p: dashboard_url(province, plan.id, p),
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
async def post_nudge(request: Request, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now) -> Response:
    province = str(form.get("province") or "")
    back = dashboard_url(province, str(form.get("plan_id") or "") or None, str(form.get("period") or "") or None)
    if not principal.may_operate_province(province):
        _check_reader(principal, province)
        raise PageError(
            403, "Không có quyền đôn đốc", "Chỉ cơ quan thường trực của tỉnh mới gửi nhắc nhở tới các đơn vị."
        )
    units = [str(u) for u in form.getlist("units")]
    if not units:
        return redirect(request, back, flash="Chưa chọn đơn vị nào nên chưa gửi nhắc nhở.")
    try:
        body = NudgeIn(
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
        async with db.begin():
            result = await use_cases.nudge(db, **body.model_dump(), requested_by=principal.subject, now=now)
    except (NotFound, Unprocessable):
        raise PageError(
            422,
            "Chưa gửi được nhắc nhở",
            "Có đơn vị được chọn không phải báo cáo kỳ này, hoặc kỳ báo cáo chưa được mở.",
            back_url=back,
            back_label="Quay lại trang tiến độ",
        ) from None
    return redirect(request, back, flash=nudge_flash(result["sent"], result["skipped"]))
