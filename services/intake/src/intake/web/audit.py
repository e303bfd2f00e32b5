"""Nhật ký: the intake audit trail as a page for operators (the rows GET /v1/audit answers, newest first).

A province operator sees their own province's rows; the national office and admins every row; reporters get 403.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from baocao_shared.web import render
from intake.deps import Uow
from intake.domain.account_errors import AuditTrailForbidden
from intake.handlers.audit import trail_page
from intake.web.pages import TEMPLATES, PageError, PagePrincipal

router = APIRouter(include_in_schema=False)


@router.get("/nhat-ky")
async def audit_page(
    request: Request, principal: PagePrincipal, uow: Uow, before: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> Response:
    try:
        async with uow:
            page, province = await trail_page(uow, principal=principal, before=before)
    except AuditTrailForbidden:
        raise PageError(
            403, "Trang dành cho cơ quan thường trực", "Nhật ký chỉ dành cho cán bộ điều hành và quản trị."
        ) from None
    context = {"title": "Nhật ký", "page": page, "province": province, "first": before is None}
    return render(TEMPLATES, request, "audit.html", context)
