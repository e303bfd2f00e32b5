"""Nhập hộ: a province's staff office enters the report of one of its units that came on paper or by email.

/bao-cao/nhap-ho lists the province's units; with ?don_vi=<code>, that unit's periods as the unit sees them; the
form, its history and its receipt are the unit's own (`forms.py`), under /bao-cao/nhap-ho/<unit>/<plan>/<period>,
with a banner saying whose report it is. The version is recorded on_behalf with the office's account
(`intake.domain.entry`), and the unit's own pages say so.
"""

# No `from __future__ import annotations`: FastAPI must resolve the Annotated aliases at import.
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from baocao_shared.errors import Forbidden
from baocao_shared.http.deps import Now
from baocao_shared.web import render
from baocao_shared.web.csrf import CsrfForm
from intake.deps import Uow
from intake.domain.errors import UnitNotInCatalogue
from intake.handlers import unit_form
from intake.web import views
from intake.web.forms import Where, form_page, history_page, not_found_page, post_form, unit_report
from intake.web.pages import TEMPLATES, Office, PageError

router = APIRouter(include_in_schema=False)
UNIT_CODE = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")]


@router.get("/bao-cao/nhap-ho")
async def choose(
    request: Request, principal: Office, uow: Uow, now: Now, don_vi: UNIT_CODE = None, tat_ca: bool = False
) -> Response:
    """The province's units, and the chosen one's periods with a link to enter each."""
    plans, unit = [], None
    try:
        async with uow:
            units = await unit_form.office_units(uow, principal=principal)
            if don_vi:
                province, unit = await unit_form.unit_of(uow, principal=principal, unit=don_vi)
                found = await unit_form.unit_plans(uow, principal=principal, unit=don_vi)
    except UnitNotInCatalogue as exc:
        raise not_found_page(exc) from None
    except Forbidden:
        raise PageError(403, "Không thể nhập hộ", "Tài khoản này không nhập hộ được đơn vị này.") from None
    if unit is not None:
        for p in found:
            rows = views.period_rows(p.plan, province.timezone, now, p.submitted, p.locked, p.excepted)
            plans.append((p.plan, *views.shown_rows(rows, show_all=tat_ca)))
    context = {
        "title": "Nhập hộ báo cáo của đơn vị", "units": units, "unit": unit, "plans": plans, "all": tat_ca,
        "where": Where(unit.code) if unit else None,
    }  # fmt: skip
    return render(TEMPLATES, request, "on_behalf.html", context)


REPORT = "/bao-cao/nhap-ho/{unit}/{plan_id}/{period}"


@router.get(REPORT)
async def form(request: Request, unit: str, plan_id: str, period: str, principal: Office, uow: Uow, now: Now):
    where = Where(unit)
    report = await _report(uow, principal, plan_id, period, now, where)
    return form_page(request, report, views.stored_inputs(report.existing), now, where)


@router.post(REPORT)
async def post(request: Request, unit: str, plan_id: str, period: str, form: CsrfForm, principal: Office, uow: Uow,
               now: Now) -> Response:  # fmt: skip
    where = Where(unit)
    report = await _report(uow, principal, plan_id, period, now, where)
    return await post_form(request, report, form, principal, uow, now, where)


@router.get(REPORT + "/lich-su")
async def history(request: Request, unit: str, plan_id: str, period: str, principal: Office, uow: Uow, now: Now):
    where = Where(unit)
    report = await _report(uow, principal, plan_id, period, now, where)
    return await history_page(request, report, principal, uow, where)


async def _report(uow, principal, plan_id: str, period: str, now, where: Where):
    try:
        return await unit_report(uow, principal, plan_id, period, now, where)
    except Forbidden:
        raise PageError(403, "Không thể nhập hộ", "Tài khoản này không nhập hộ được đơn vị này.") from None
