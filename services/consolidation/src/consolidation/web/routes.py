"""The consolidated report's pages (báo cáo tổng hợp): the province's report with its workflow, the national view.

Thin like the API: pages call the same use cases (`printable_report`, `approve`, `publish`, `national`)
in a unit of work, and turn the named errors they raise into pages in Vietnamese.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from baocao_shared.http.deps import Now
from baocao_shared.principal import Role
from baocao_shared.web import csrf, redirect, render, templates_for
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PageError, PagePrincipal, intake_url
from consolidation.adapters.report_html import render_report
from consolidation.deps import PERIOD, PROVINCE, Uow
from consolidation.domain.errors import (
    NO_SUCH_REPORT,
    NotTheNationalOffice,
    NotTheProvincesOperator,
    NotTheReportsReader,
    PeriodNotInPlan,
    PlanAmbiguous,
    ReportNotPublished,
    StepNotAllowed,
    UnknownPlan,
    UnknownProvince,
)
from consolidation.domain.months import recent_months
from consolidation.domain.report import ReportAddress
from consolidation.domain.workflow import LABELS
from consolidation.handlers import national as roll_up
from consolidation.handlers import reports, workflow
from consolidation.web.national_view import national_context, national_page, report_page

TEMPLATES = templates_for(FilePath(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)
ProvinceCode = Annotated[str, Path(pattern=PROVINCE)]
Period = Annotated[str, Path(pattern=PERIOD)]
FORBIDDEN_TITLE = "Không có quyền xem trang này"
NOT_FOUND_TITLE = "Không tìm thấy báo cáo"
READERS_ONLY = (
    "Báo cáo tổng hợp của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
    "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
)
STEPS = {"approve": workflow.approve, "publish": workflow.publish}
DONE = {"approve": "Đã duyệt báo cáo.", "publish": "Đã gửi báo cáo lên Văn phòng Thường trực."}
NOT_NOW = {
    "approve": "Chưa duyệt được: báo cáo đang ở trạng thái “{status}”, chỉ duyệt được bản dự thảo.",
    "publish": "Chưa gửi được: báo cáo đang ở trạng thái “{status}”, chỉ gửi lên được báo cáo đã duyệt.",
}


@router.get("/")
@router.get("/tong-hop")  # the start page of the navigation bar (a path no other service serves)
async def home(request: Request, principal: PagePrincipal, uow: Uow, now: Now) -> Response:
    if principal.role is Role.REPORTER:
        context = {"title": "Báo cáo tổng hợp", "intake_url": intake_url(request)}
        return render(TEMPLATES, request, "home_reporter.html", context)
    async with uow:
        if principal.role is Role.PROVINCE_OPERATOR:
            period = await roll_up.latest_period(uow, now=now, province=principal.province)
            return redirect(request, report_page(principal.province or "", period))
        return redirect(request, national_page(await roll_up.latest_period(uow, now=now)))


@router.get("/tong-hop/{province}/{period}")
async def report(
    request: Request,
    province: ProvinceCode,
    period: Period,
    principal: PagePrincipal,
    uow: Uow,
    now: Now,
    plan_id: str | None = None,
) -> Response:
    address = ReportAddress(province=province, period=period, plan_id=plan_id)
    try:
        async with uow:
            printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
    except PlanAmbiguous:
        async with uow:
            choice = await reports.plan_choice(uow, province=province)
        links = [(p, report_page(province, period, p.id)) for p in choice.plans]
        context = {"title": "Chọn kế hoạch", "province": choice.province, "period": period, "plans": links}
        return render(TEMPLATES, request, "plans.html", context)
    except NotTheReportsReader:
        raise PageError(403, FORBIDDEN_TITLE, READERS_ONLY) from None
    except ReportNotPublished as exc:
        raise PageError(
            403,
            "Báo cáo chưa được gửi lên",
            f"Tỉnh {exc.province_name} chưa gửi báo cáo kỳ {exc.period} lên Văn phòng Thường trực.",
            back_url=national_page(exc.period),
            back_label="Về trang tổng hợp toàn quốc",
        ) from None
    except PeriodNotInPlan:
        raise PageError(404, NOT_FOUND_TITLE, f"Kỳ báo cáo {period} không hợp lệ với kế hoạch này.") from None
    except (UnknownPlan, UnknownProvince):
        raise PageError(404, NOT_FOUND_TITLE, f"Chưa có kế hoạch báo cáo này của tỉnh mã {province}.") from None
    steps = reports.open_steps(principal, printed.report)
    return render_report(
        request,
        printed.report,
        issued_on=printed.issued_on,  # as the .docx does
        can_approve="approve" in steps,
        can_publish="publish" in steps,
        csrf_token=csrf.token(request),
    )


def _step_page(action: str):
    """The page that takes the workflow step `action` from the report page's form, then goes back there."""

    async def take_step(
        request: Request,
        province: ProvinceCode,
        period: Period,
        form: CsrfForm,
        principal: PagePrincipal,
        uow: Uow,
        now: Now,
    ) -> Response:
        plan_id = str(form.get("plan_id") or "") or None
        back = report_page(province, period, plan_id)
        try:
            reports.check_reader(principal, province=province)  # the page says "not yours to read" first
            async with uow:
                address = ReportAddress(province=province, period=period, plan_id=plan_id)
                await STEPS[action](uow, principal=principal, address=address, now=now)
        except NotTheReportsReader:
            raise PageError(403, FORBIDDEN_TITLE, READERS_ONLY) from None
        except NotTheProvincesOperator:
            raise PageError(
                403,
                "Không có quyền duyệt hoặc gửi báo cáo",
                "Chỉ cơ quan thường trực của tỉnh mới duyệt và gửi báo cáo tổng hợp của tỉnh.",
                back_url=back,
                back_label="Quay lại báo cáo",
            ) from None
        except StepNotAllowed as exc:
            return redirect(request, back, flash=NOT_NOW[action].format(status=LABELS.get(exc.status, exc.status)))
        except NO_SUCH_REPORT:
            raise PageError(404, NOT_FOUND_TITLE, "Không tìm thấy báo cáo này.", back_url="/tong-hop") from None
        return redirect(request, back, flash=DONE[action])

    return take_step


for _action, _path in (("approve", "duyet"), ("publish", "gui")):
    router.post(f"/tong-hop/{{province}}/{{period}}/{_path}", name=_action)(_step_page(_action))


@router.get("/quoc-gia/{period}")
async def national(request: Request, period: Period, principal: PagePrincipal, uow: Uow, now: Now) -> Response:
    try:
        async with uow:
            answer = await roll_up.national(uow, principal=principal, period=period)
            labels = await roll_up.indicator_labels(uow)
    except NotTheNationalOffice:
        raise PageError(
            403, FORBIDDEN_TITLE, "Trang tổng hợp toàn quốc dành cho Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
        ) from None
    context = national_context(answer, labels, recent_months(now))
    return render(TEMPLATES, request, "national.html", context)
