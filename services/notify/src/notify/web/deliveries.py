"""The deliveries page (thông báo đã gửi): what went to whom about a province, and sending a failed one again.

Thin like the API: reads go through notify.handlers.deliveries, and the "Gửi lại" form calls the
same `resend` use case as POST /v1/deliveries/{id}/resend. Every refusal is a page in Vietnamese.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared import catalog_replica as replica
from baocao_shared.errors import Conflict, Forbidden, NotFound
from baocao_shared.http.deps import Db
from baocao_shared.principal import Role
from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PageError, PagePrincipal
from notify.adapters import orm
from notify.api.routes import Now
from notify.handlers import deliveries as use_cases
from notify.web.pages import TEMPLATES, check_reader, place
from notify.web.views import (
    CHANNELS,
    DELIVERIES,
    PAGE_SIZE,
    STATUSES,
    ListQuery,
    counts,
    delivery_row,
    local_path,
    pager,
)

router = APIRouter(include_in_schema=False)
NOT_FAILED = {
    "sent": "Không gửi lại: thông báo này đã được gửi thành công. Chỉ gửi lại được thông báo gửi thất bại.",
    "pending": "Không gửi lại: thông báo này đang chờ gửi. Chỉ gửi lại được thông báo gửi thất bại.",
}


def _query(province: str, period: str, status: str, channel: str, unit: str, page: str) -> ListQuery:
    """The list's filters as asked, an unknown status or channel read as "any"."""
    return ListQuery(
        province=province,
        period=period.strip()[:10],
        status=status if status in STATUSES else "",
        channel=channel if channel in CHANNELS else "",
        unit=unit.strip()[:40],
        page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
    )


@router.get(DELIVERIES)
async def deliveries_page(
    request: Request,
    principal: PagePrincipal,
    db: Db,
    province: str = "",
    period: str = "",
    status: str = "",
    channel: str = "",
    unit: str = "",
    page: str = "1",
) -> Response:
    province = province or principal.province or ""  # an operator reads their own province
    if not province and principal.role is not Role.REPORTER:  # the national office and admins pick one first
        async with db.begin():
            provinces = await use_cases.provinces(db)
        context = {"title": "Thông báo đã gửi", "provinces": provinces}
        return render(TEMPLATES, request, "provinces.html", context)
    check_reader(principal, province)
    if not re.fullmatch(r"\d{2}", province):
        raise PageError(404, "Không tìm thấy tỉnh", "Địa chỉ trang cần mã tỉnh gồm 2 chữ số, ví dụ ?province=30.")
    query = _query(province, period, status, channel, unit, page)
    filters = use_cases.Filters(
        province=province,
        period=query.period or None,
        status=query.status or None,
        channel=query.channel or None,
        unit=query.unit or None,
    )
    async with db.begin():
        where = await place(db, province)
        by_status = await use_cases.count_by_status(db, filters=filters)
        rows = await use_cases.find(db, filters=filters, limit=PAGE_SIZE, offset=query.offset)
        choices = await use_cases.choices(db, province=province)
    names = dict(choices.units)
    total = by_status[query.status] if query.status else sum(by_status.values())
    context = {
        "title": f"Thông báo đã gửi · {where.name}",
        "place": where,
        "query": query,
        "counts": counts(query, by_status),
        "rows": [delivery_row(r, timezone=where.timezone, unit_names=names) for r in rows],
        "pager": pager(query, len(rows), total),
        "choices": choices,
        "statuses": STATUSES,
        "channels": CHANNELS,
        "can_resend": principal.may_operate_province(province),
    }
    return render(TEMPLATES, request, "deliveries.html", context)


def _delivery_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise PageError(404, "Không tìm thấy thông báo", "Địa chỉ trang không đúng mã của một thông báo.") from None


@router.get(DELIVERIES + "/{delivery_id}")
async def delivery_page(request: Request, delivery_id: str, principal: PagePrincipal, db: Db) -> Response:
    if principal.role is Role.REPORTER:
        check_reader(principal, "")  # a unit's reporter reads no deliveries, not even whether one exists
    async with db.begin():
        found = await use_cases.get(db, delivery_id=_delivery_id(delivery_id))
        if found is None:
            raise PageError(404, "Không tìm thấy thông báo", "Không có thông báo nào với mã này.")
        check_reader(principal, found.province)
        where = await place(db, found.province)
        names = await replica.unit_names(db, orm.units, found.province)
    row = delivery_row(found, timezone=where.timezone, unit_names=names)
    context = {
        "title": f"Thông báo: {found.subject}",
        "place": where,
        "row": row,
        "back": ListQuery(province=found.province).url(),
        "can_resend": principal.may_operate_province(found.province),
    }
    return render(TEMPLATES, request, "delivery.html", context)


@router.post(DELIVERIES + "/{delivery_id}/gui-lai")
async def resend(
    request: Request, delivery_id: str, form: CsrfForm, principal: PagePrincipal, db: Db, now: Now
) -> Response:
    ident = _delivery_id(delivery_id)
    back = local_path(str(form.get("back") or ""), DELIVERIES) or f"{DELIVERIES}/{ident}"
    try:
        async with db.begin():
            row = await use_cases.resend(db, delivery_id=ident, principal=principal, now=now)
    except NotFound:
        raise PageError(404, "Không tìm thấy thông báo", "Không có thông báo nào với mã này.") from None
    except Forbidden:
        raise PageError(
            403,
            "Không có quyền gửi lại",
            "Chỉ cơ quan thường trực của tỉnh mới gửi lại được thông báo của tỉnh.",
            back_url=back,
            back_label="Quay lại danh sách thông báo",
        ) from None
    except Conflict as exc:
        return redirect(request, back, flash=NOT_FAILED.get((exc.details or {}).get("status"), NOT_FAILED["pending"]))
    flash = f"Đã đưa thông báo “{row.subject}” gửi tới {row.recipient} trở lại hàng chờ gửi; hệ thống sẽ gửi ngay."
    return redirect(request, back, flash=flash)
