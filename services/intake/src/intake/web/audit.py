"""Nhật ký: the intake audit trail as a page for operators (the rows GET /v1/audit answers, newest first).

A province operator sees their own province's rows; the national office and admins every row; reporters get 403.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from baocao_shared.audit import PAGE_SIZE, read_audit
from baocao_shared.http.deps import Db
from baocao_shared.principal import Role
from baocao_shared.web import render
from intake.adapters import orm
from intake.web.pages import TEMPLATES, PageError, PagePrincipal

router = APIRouter(include_in_schema=False)


@router.get("/nhat-ky")
async def audit_page(
    request: Request, principal: PagePrincipal, db: Db, before: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> Response:
    if principal.role is Role.REPORTER:
        raise PageError(403, "Trang dành cho cơ quan thường trực", "Nhật ký chỉ dành cho cán bộ điều hành và quản trị.")
    province = principal.province if principal.role is Role.PROVINCE_OPERATOR else None
    async with db.begin():
        page = await read_audit(db, orm.audit_log, province=province, before=before, limit=PAGE_SIZE)
    context = {"title": "Nhật ký", "page": page, "province": province, "first": before is None}
    return render(TEMPLATES, request, "audit.html", context)
