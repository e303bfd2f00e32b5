"""The deliveries page (thông báo đã gửi): what went to whom about a province, and sending a failed one again.

Thin like the API: the reads and the "Gửi lại" form call notify.handlers.deliveries, the same use cases
(and the same rules of who may) as GET /v1/deliveries and POST /v1/deliveries/{id}/resend. Every refusal
is a page in Vietnamese (notify.web.pages.explained).
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from baocao_shared.web import redirect, render
from baocao_shared.web.csrf import CsrfForm
from baocao_shared.web.pages import PagePrincipal
from notify.deps import Uow, WallNow
from notify.domain.delivery import Filters
from notify.domain.errors import NotResendable
from notify.handlers import deliveries as use_cases
from notify.web.pages import TEMPLATES, explained, not_a_delivery
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
    uow: Uow,
    province: str = "",
    period: str = "",
    status: str = "",
    channel: str = "",
    unit: str = "",
    page: str = "1",
) -> Response:
    province = province or principal.province or ""  # an operator reads their own province
    if not province:  # the national office and admins pick one first
        with explained():
            async with uow:
                provinces = await use_cases.provinces(uow, principal=principal)
        return render(TEMPLATES, request, "provinces.html", {"title": "Thông báo đã gửi", "provinces": provinces})
    query = _query(province, period, status, channel, unit, page)
    filters = Filters(
        province=province,
        period=query.period or None,
        status=query.status or None,
        channel=query.channel or None,
        unit=query.unit or None,
    )
    with explained():
        async with uow:
            found = await use_cases.overview(
                uow, principal=principal, filters=filters, limit=PAGE_SIZE, offset=query.offset
            )
    names = dict(found.choices.units)
    total = found.by_status[query.status] if query.status else sum(found.by_status.values())
    context = {
        "title": f"Thông báo đã gửi · {found.place.name}",
        "place": found.place,
        "query": query,
        "counts": counts(query, found.by_status),
        "rows": [delivery_row(r, timezone=found.place.timezone, unit_names=names) for r in found.rows],
        "pager": pager(query, len(found.rows), total),
        "choices": found.choices,
        "statuses": STATUSES,
        "channels": CHANNELS,
        "can_resend": found.may_resend,
    }
    return render(TEMPLATES, request, "deliveries.html", context)


def _delivery_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@router.get(DELIVERIES + "/{delivery_id}")
async def delivery_page(request: Request, delivery_id: str, principal: PagePrincipal, uow: Uow) -> Response:
    with explained():
        async with uow:
            found = await use_cases.detail(uow, principal=principal, delivery_id=_delivery_id(delivery_id))
    delivery = found.delivery
    context = {
        "title": f"Thông báo: {delivery.subject}",
        "place": found.place,
        "row": delivery_row(delivery, timezone=found.place.timezone, unit_names=found.unit_names),
        "back": ListQuery(province=delivery.province).url(),
        "can_resend": found.may_resend,
    }
    return render(TEMPLATES, request, "delivery.html", context)


@router.post(DELIVERIES + "/{delivery_id}/gui-lai")
async def resend(
    request: Request, delivery_id: str, form: CsrfForm, principal: PagePrincipal, uow: Uow, now: WallNow
) -> Response:
    ident = _delivery_id(delivery_id)
    if ident is None:
        raise not_a_delivery()
    back = local_path(str(form.get("back") or ""), DELIVERIES) or f"{DELIVERIES}/{ident}"
    try:
        with explained(back_url=back):
            async with uow:
                row = await use_cases.resend(uow, principal=principal, delivery_id=ident, now=now)
    except NotResendable as refused:
        return redirect(request, back, flash=NOT_FAILED.get(refused.status, NOT_FAILED["pending"]))
    flash = f"Đã đưa thông báo “{row.subject}” gửi tới {row.recipient} trở lại hàng chờ gửi; hệ thống sẽ gửi ngay."
    return redirect(request, back, flash=flash)
