"""The operators' system status page (/he-thong) and its replay form, for admins and the national office.

Thin like the other pages: `system_status` asks the services; this module checks who may look and
replay, and draws the answers.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import re
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared.auth import SESSION_COOKIE
from baocao_shared.principal import Principal, Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from deadlines.web import system_status
from deadlines.web.pages import TEMPLATES, PageError, PagePrincipal

router = APIRouter(include_in_schema=False)
PAGE = "/he-thong"


def _check_reader(principal: Principal) -> None:
    if not principal.is_national:  # admins and the national office
        raise PageError(
            403,
            "Không có quyền xem trang này",
            "Tình trạng hệ thống chỉ dành cho quản trị viên và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ.",
        )


@router.get(PAGE)
async def system_page(request: Request, principal: PagePrincipal) -> Response:
    _check_reader(principal)
    statuses = await system_status.load_statuses(request, request.cookies[SESSION_COOKIE])
    context = {
        "title": "Tình trạng hệ thống",
        "statuses": statuses,
        "checked_at": datetime.now(UTC),
        "can_replay": principal.role is Role.ADMIN,
        "duration": system_status.duration,
        "error_message": system_status.error_message,
        "topic_rows": system_status.topic_rows,
    }
    return render(TEMPLATES, request, "system_status.html", context)


@router.post(PAGE + "/phat-lai")
async def post_replay(request: Request, form: CsrfForm, principal: PagePrincipal) -> Response:
    _check_reader(principal)
    if principal.role is not Role.ADMIN:
        raise PageError(
            403, "Không có quyền phát lại", "Chỉ quản trị viên mới được phát lại bản ghi lỗi.", back_url=PAGE
        )
    service, group = str(form.get("service") or ""), str(form.get("group") or "")
    partition, offset = str(form.get("partition") or ""), str(form.get("offset") or "")
    known = system_status.service_label(service) is not None and group
    if not (known and re.fullmatch(r"\d{1,9}", partition) and re.fullmatch(r"\d{1,18}", offset)):
        raise PageError(422, "Chưa phát lại được", "Biểu mẫu phát lại không hợp lệ.", back_url=PAGE)
    message = await system_status.replay(
        request,
        service=service,
        group=group,
        partition=int(partition),
        offset=int(offset),
        token=request.cookies[SESSION_COOKIE],
    )
    return redirect(request, PAGE, flash=message)
