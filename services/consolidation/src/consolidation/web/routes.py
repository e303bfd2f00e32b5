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
from baocao_shared.periods import STATE_LABELS
from baocao_shared.principal import Role
from baocao_shared.web import csrf, redirect, render, templates_for
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PageError, PagePrincipal, intake_url
from consolidation.adapters.report_html import EarlierDocument, render_report
from consolidation.adapters.report_text import local_moment
from consolidation.deps import PERIOD, PROVINCE, Press, Uow
from consolidation.domain.errors import (
    NO_SUCH_REPORT,
    NotTheNationalOffice,
    NotTheProvincesOperator,
    NotTheReportsReader,
    PeriodNotInPlan,
    PeriodNotOpen,
    PeriodOutsidePlan,
    PlanAmbiguous,
    ReportAlreadyPublished,
    ReportNotPublished,
    ReturnReasonInvalid,
    SectionTextInvalid,
    SigningKeyUnavailable,
    StaleReportVersion,
    StepNotAllowed,
    UnknownPlan,
    UnknownProvince,
    UnknownSection,
)
from consolidation.domain.months import recent_months
from consolidation.domain.report import ReportAddress
from consolidation.domain.workflow import LABELS
from consolidation.handlers import documents, reports, sections, workflow
from consolidation.handlers import national as roll_up
from consolidation.web.national_view import national_context, national_page, report_page

TEMPLATES = templates_for(FilePath(__file__).resolve().parent / "templates")
CHECK_TITLE = "Kiểm tra văn bản đã phát hành"
MAX_UPLOAD = 20_000_000
router = APIRouter(include_in_schema=False)
ProvinceCode = Annotated[str, Path(pattern=PROVINCE)]
Period = Annotated[str, Path(pattern=PERIOD)]
FORBIDDEN_TITLE = "Không có quyền xem trang này"
NOT_OPEN_TITLE = "Kỳ báo cáo chưa mở"
NOT_FOUND_TITLE = "Không tìm thấy báo cáo"
READERS_ONLY = (
    "Báo cáo tổng hợp của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
    "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
)
STEPS = {
    "approve": workflow.approve, "publish": workflow.publish, "accept": workflow.accept,
    "return": workflow.return_to_province,
}  # fmt: skip
DONE = {
    "approve": "Đã duyệt báo cáo.",
    "publish": "Đã cấp số, ký số và gửi báo cáo lên Văn phòng Thường trực.",
    "accept": "Đã tiếp nhận báo cáo.",
    "return": "Đã trả lại báo cáo cho tỉnh; cơ quan thường trực của tỉnh đã được thông báo.",
}
NOT_NOW = {
    "approve": "Chưa duyệt được: báo cáo đang ở trạng thái “{status}”, chỉ duyệt được bản dự thảo.",
    "publish": "Chưa gửi được: báo cáo đang ở trạng thái “{status}”, chỉ gửi lên được báo cáo đã duyệt.",
    "accept": "Chưa tiếp nhận được: báo cáo đang ở trạng thái “{status}”, chỉ tiếp nhận được báo cáo đã gửi lên.",
    "return": "Chưa trả lại được: báo cáo đang ở trạng thái “{status}”, chỉ trả lại được báo cáo đã gửi lên.",
}
NATIONAL_ONLY = (
    "Chỉ Văn phòng Thường trực Ban Chỉ đạo của Chính phủ tiếp nhận hoặc trả lại báo cáo tổng hợp của các tỉnh."
)


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
            earlier = await documents.earlier(uow, printed.report)
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
    except PeriodOutsidePlan as exc:
        raise PageError(404, NOT_FOUND_TITLE, _outside(exc)) from None
    except PeriodNotOpen as exc:
        raise PageError(409, NOT_OPEN_TITLE, _not_open(exc)) from None
    except (UnknownPlan, UnknownProvince):
        raise PageError(404, NOT_FOUND_TITLE, f"Chưa có kế hoạch báo cáo này của tỉnh mã {province}.") from None
    return _console(request, principal, printed, earlier=earlier)


def _outside(exc: PeriodOutsidePlan) -> str:
    span = f"từ kỳ {exc.first_period} đến kỳ {exc.last_period}" if exc.last_period else f"từ kỳ {exc.first_period}"
    return (
        f"Kỳ {exc.period}: {STATE_LABELS['outside_plan'].lower()}. Kế hoạch này có các kỳ báo cáo {span}, "
        "nên không có báo cáo tổng hợp cho kỳ này."
    )


def _not_open(exc: PeriodNotOpen) -> str:
    when = f" (các đơn vị gửi báo cáo từ {local_moment(exc.opens_at)})" if exc.opens_at else ""
    return f"Kỳ {exc.period}: {STATE_LABELS['not_open'].lower()}{when}, nên chưa có báo cáo tổng hợp."


def _console(
    request: Request, principal, printed, *, pending=None, error=None, status_code: int = 200, earlier=(),
    answer_error: tuple[str, str] | None = None,
) -> Response:  # fmt: skip
    """The report's page: its sections with their sources (and editors, for its operators), the workflow's
    buttons (the national office's: accept, return with a reason), the documents it went up with before, and the
    document as it will read."""
    steps = reports.open_steps(principal, printed.report)
    shown = [
        EarlierDocument(d.number, d.kind, d.sha256, local_moment(d.published_at)) for d in earlier
    ]  # fmt: skip
    return render_report(
        request,
        printed.report,
        issued_on=printed.issued_on,  # as the .docx does
        standing=printed.standing,
        can_approve="approve" in steps,
        can_publish="publish" in steps,
        can_accept="accept" in steps,
        can_return="return" in steps,
        earlier=shown,
        answer_error=answer_error,
        csrf_token=csrf.token(request),
        console=True,
        can_edit=sections.may_edit(principal, printed.report),
        pending=pending,
        error=error,
        status_code=status_code,
    )


@router.post("/tong-hop/{province}/{period}/muc/{key}")
async def edit_section(
    request: Request,
    province: ProvinceCode,
    period: Period,
    key: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}$")],
    form: CsrfForm,
    principal: PagePrincipal,
    uow: Uow,
    now: Now,
) -> Response:
    """Save one section from its editor; a refusal shows the page again with the text the editor typed."""
    plan_id = str(form.get("plan_id") or "") or None
    address = ReportAddress(province=province, period=period, plan_id=plan_id)
    typed = str(form.get("text") or "")
    try:
        base_version = int(str(form.get("base_version") or ""))
    except ValueError:
        base_version = -1
    back = report_page(province, period, plan_id)
    try:
        reports.check_reader(principal, province=province)
        async with uow:
            await sections.edit_section(
                uow, principal=principal, address=address, key=key, text=typed, base_version=base_version, now=now
            )
    except NotTheReportsReader:
        raise PageError(403, FORBIDDEN_TITLE, READERS_ONLY) from None
    except NotTheProvincesOperator:
        raise PageError(
            403, "Không có quyền sửa báo cáo", "Chỉ cơ quan thường trực của tỉnh mới viết báo cáo tổng hợp của tỉnh.",
            back_url=back, back_label="Quay lại báo cáo",
        ) from None  # fmt: skip
    except UnknownSection:
        raise PageError(404, NOT_FOUND_TITLE, "Báo cáo không có mục này.", back_url=back) from None
    except PeriodNotOpen as exc:
        raise PageError(409, NOT_OPEN_TITLE, _not_open(exc), back_url="/tong-hop") from None
    except NO_SUCH_REPORT:
        raise PageError(404, NOT_FOUND_TITLE, "Không tìm thấy báo cáo này.", back_url="/tong-hop") from None
    except (StaleReportVersion, ReportAlreadyPublished, SectionTextInvalid) as exc:
        async with uow:
            printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
        return _console(
            request, principal, printed, pending={key: typed}, error=(key, _refusal(exc)), status_code=409 if
            not isinstance(exc, SectionTextInvalid) else 422,
        )  # fmt: skip
    return redirect(request, f"{back}#muc-{key}", flash="Đã lưu mục báo cáo.")


def _refusal(exc: Exception) -> str:
    if isinstance(exc, StaleReportVersion):
        who = f" ({exc.edited_by})" if exc.edited_by else ""
        return (
            f"Chưa lưu: trong lúc bạn sửa, báo cáo đã được lưu thành phiên bản {exc.current_version}{who}. "
            "Nội dung bạn vừa nhập vẫn ở ô dưới đây; đối chiếu với nội dung hiện tại trong phần xem trước rồi lưu lại."
        )
    if isinstance(exc, ReportAlreadyPublished):
        return "Chưa lưu: báo cáo đã gửi lên nên không sửa được nữa; cần quản trị viên mở lại kỳ báo cáo."
    return f"Chưa lưu: {exc.reason}" if isinstance(exc, SectionTextInvalid) else str(exc)


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
        press: Press,
    ) -> Response:
        plan_id = str(form.get("plan_id") or "") or None
        back = report_page(province, period, plan_id)
        try:
            reports.check_reader(principal, province=province)  # the page says "not yours to read" first
            async with uow:
                address = ReportAddress(province=province, period=period, plan_id=plan_id)
                extra = {"press": press} if action == "publish" else {}
                if action == "return":
                    extra = {"reason": str(form.get("reason") or "")}
                await STEPS[action](uow, principal=principal, address=address, now=now, **extra)
        except NotTheReportsReader:
            raise PageError(403, FORBIDDEN_TITLE, READERS_ONLY) from None
        except NotTheNationalOffice:
            raise PageError(
                403, "Không có quyền tiếp nhận hoặc trả lại báo cáo", NATIONAL_ONLY, back_url=back,
                back_label="Quay lại báo cáo",
            ) from None  # fmt: skip
        except ReturnReasonInvalid as exc:
            async with uow:
                printed = await reports.printable_report(uow, principal=principal, address=address, now=now)
                earlier = await documents.earlier(uow, printed.report)
            typed = (exc.reason, str(form.get("reason") or ""))
            return _console(request, principal, printed, earlier=earlier, answer_error=typed, status_code=422)
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
        except SigningKeyUnavailable as exc:
            raise PageError(
                503, "Chưa gửi được báo cáo: không ký số được", f"{exc.message} Báo cáo vẫn ở trạng thái đã duyệt.",
                back_url=back, back_label="Quay lại báo cáo",
            ) from None  # fmt: skip
        except PeriodNotOpen as exc:
            raise PageError(409, NOT_OPEN_TITLE, _not_open(exc), back_url="/tong-hop") from None
        except NO_SUCH_REPORT:
            raise PageError(404, NOT_FOUND_TITLE, "Không tìm thấy báo cáo này.", back_url="/tong-hop") from None
        # A returned report is a draft the national office no longer reads: it goes back to the national view.
        return redirect(request, national_page(period) if action == "return" else back, flash=DONE[action])

    return take_step


for _action, _path in (("approve", "duyet"), ("publish", "gui"), ("accept", "tiep-nhan"), ("return", "tra-lai")):
    router.post(f"/tong-hop/{{province}}/{{period}}/{_path}", name=_action)(_step_page(_action))


@router.get("/quoc-gia/{period}")
async def national(request: Request, period: Period, principal: PagePrincipal, uow: Uow, now: Now) -> Response:
    try:
        async with uow:
            answer = await roll_up.national(uow, principal=principal, period=period)
            regimes = await roll_up.regimes(uow)
    except NotTheNationalOffice:
        raise PageError(
            403, FORBIDDEN_TITLE, "Trang tổng hợp toàn quốc dành cho Văn phòng Thường trực Ban Chỉ đạo của Chính phủ."
        ) from None
    context = national_context(answer, regimes, recent_months(now))
    return render(TEMPLATES, request, "national.html", context)


@router.get("/kiem-tra-van-ban")
async def check_document_form(request: Request, principal: PagePrincipal) -> Response:
    """Upload a PDF and learn whether it is a document published here, untouched, and who signed it."""
    return render(TEMPLATES, request, "check.html", {"title": CHECK_TITLE, "csrf_token": csrf.token(request)})


@router.post("/kiem-tra-van-ban")
async def check_document(request: Request, principal: PagePrincipal, uow: Uow, press: Press) -> Response:
    form = await request.form()
    csrf.check(request, form)
    upload = form.get("file")
    body = await upload.read(MAX_UPLOAD + 1) if upload is not None and hasattr(upload, "read") else b""
    context = {"title": CHECK_TITLE, "csrf_token": csrf.token(request), "filename": getattr(upload, "filename", "")}
    if not body:
        return render(
            TEMPLATES, request, "check.html", {**context, "error": "Chọn một tệp PDF để kiểm tra."}, status_code=422
        )
    if len(body) > MAX_UPLOAD:
        message = f"Tệp lớn quá {MAX_UPLOAD // 1_000_000} MB; văn bản báo cáo không lớn như vậy."
        return render(TEMPLATES, request, "check.html", {**context, "error": message}, status_code=413)
    async with uow:
        found = await documents.examine(uow, body=body, verify=press.verify)
    return render(TEMPLATES, request, "check.html", {**context, "result": found, "local_moment": local_moment})
