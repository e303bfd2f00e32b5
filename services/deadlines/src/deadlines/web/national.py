"""The national office's dashboard (tiến độ các tỉnh, /tien-do/quoc-gia): which provinces published their report
of a period to the national office, on time or late, and its nudge form (đôn đốc các tỉnh). Thin like the API: the
pages call the same use cases as GET /v1/compliance?level=national and POST /v1/nudges/national."""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from baocao_shared.http.deps import Now
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from deadlines.deps import Uow
from deadlines.domain.errors import (
    NationalComplianceNotVisible,
    NoProvinceOwes,
    NotTheNationalOffice,
    PeriodMalformed,
    ProvincesOweNothing,
)
from deadlines.handlers import national_compliance
from deadlines.handlers.national_compliance import NationalNudgeIn
from deadlines.web.national_view import national_dashboard
from deadlines.web.pages import TEMPLATES, PageError, PagePrincipal

router = APIRouter(include_in_schema=False)
NATIONAL_DASHBOARD = "/tien-do/quoc-gia"
NOT_THE_NATIONAL_OFFICE = "Tiến độ báo cáo của các tỉnh chỉ dành cho Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."


def national_url(period: str | None = None, plan_id: str | None = None) -> str:
    query = {k: v for k, v in {"period": period, "plan_id": plan_id}.items() if v}
    return NATIONAL_DASHBOARD + (f"?{urlencode(query)}" if query else "")


@router.get(NATIONAL_DASHBOARD)
async def national_page(
    request: Request,
    principal: PagePrincipal,
    uow: Uow,
    now: Now,
    period: str | None = None,
    plan_id: str | None = None,
) -> Response:
    try:
        async with uow:
            found = await national_compliance.national_board(
                uow, principal=principal, period=period or None, plan_id=plan_id or None, now=now
            )
    except NationalComplianceNotVisible:
        raise PageError(403, "Không có quyền xem trang này", NOT_THE_NATIONAL_OFFICE) from None
    except (NoProvinceOwes, PeriodMalformed):
        raise PageError(
            404,
            "Không có kỳ báo cáo này",
            f"Chưa tỉnh nào phải gửi báo cáo kỳ {(period or '')[:10]} lên Văn phòng Thường trực.",
            back_url=national_url(plan_id=plan_id),
            back_label="Về kỳ báo cáo gần nhất",
        ) from None
    if found.period is None:
        context = {"title": "Tiến độ các tỉnh", "board": None}
        return render(TEMPLATES, request, "national_dashboard.html", context)
    context = {
        "title": f"Tiến độ các tỉnh kỳ {found.period}",
        "board": national_dashboard(found),
        "can_nudge": principal.is_national,
        "url": lambda p: national_url(p, found.plan_id),
    }
    return render(TEMPLATES, request, "national_dashboard.html", context)


@router.post(NATIONAL_DASHBOARD + "/nhac")
async def post_national_nudge(
    request: Request, form: CsrfForm, principal: PagePrincipal, uow: Uow, now: Now
) -> Response:
    period, plan_id = str(form.get("period") or ""), str(form.get("plan_id") or "") or None
    back = national_url(period or None, plan_id)
    try:
        national_compliance.check_may_urge_provinces(principal)
    except NotTheNationalOffice:
        raise PageError(403, "Không có quyền đôn đốc", NOT_THE_NATIONAL_OFFICE) from None
    provinces = [str(p) for p in form.getlist("provinces")]
    if not provinces:
        return redirect(request, back, flash="Chưa chọn tỉnh nào nên chưa gửi nhắc nhở.")
    try:
        order = NationalNudgeIn(
            period=period, provinces=provinces, plan_id=plan_id, message=str(form.get("message") or "").strip() or None
        )
    except ValidationError:
        raise PageError(
            422,
            "Chưa gửi được nhắc nhở",
            "Biểu mẫu đôn đốc không hợp lệ (kỳ, tỉnh hoặc lời nhắn); vui lòng tải lại trang tiến độ.",
            back_url=back,
            back_label="Quay lại trang tiến độ các tỉnh",
        ) from None
    try:
        async with uow:
            result = await national_compliance.nudge_provinces(uow, principal=principal, order=order, now=now)
    except (ProvincesOweNothing, PeriodMalformed):
        raise PageError(
            422,
            "Chưa gửi được nhắc nhở",
            "Có tỉnh được chọn không phải gửi báo cáo kỳ này.",
            back_url=back,
            back_label="Quay lại trang tiến độ các tỉnh",
        ) from None
    text = f"Đã gửi nhắc nhở tới {len(result['sent'])} tỉnh."
    if result["skipped"]:
        text += f" Không gửi cho {len(result['skipped'])} tỉnh đã gửi báo cáo."
    return redirect(request, back, flash=text)
