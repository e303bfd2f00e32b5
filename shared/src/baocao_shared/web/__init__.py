"""Server-rendered pages every service shares: the layout, the stylesheet, security headers, flashes.

    templates = templates_for(Path(__file__).parent / "templates")   # the service's own, then these
    install_pages(app, templates)               # /static/baocao.css, and a 403 page for a bad CSRF token

    @router.get("/trang")
    async def page(request: Request):
        return render(templates, request, "trang.html", {"title": "..."})

Every page extends `base.html` and sees `site`: the navigation between the services (from
settings.service_urls), the signed-in principal (`request.state.principal`, set by the service's
page dependency), the CSRF token for its forms, and the flash messages of the previous redirect.
Pages need no JavaScript, and their Content-Security-Policy allows none inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from baocao_shared.http import middleware
from baocao_shared.web import csrf

HERE = Path(__file__).resolve().parent
SHARED_TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FLASH_COOKIE = "baocao_flash"

# The services in the order of the navigation bar, with their Vietnamese labels.
SERVICES = (
    ("intake", "Nộp báo cáo"),
    ("deadlines", "Tiến độ"),
    ("consolidation", "Báo cáo tổng hợp"),
    ("notify", "Thông báo"),
)

# Each service's own start page: distinct paths, so that the four can share one origin behind a proxy.
HOME_PATHS = {"intake": "/", "deadlines": "/tien-do", "consolidation": "/tong-hop", "notify": "/thong-bao"}

SECURITY_HEADERS = {
    # No inline script or style anywhere: the pages work without JavaScript. Every other answer of a
    # service gets the same headers from baocao_shared.http.middleware.SecurityHeaders.
    **middleware.SECURITY_HEADERS,
    "Cache-Control": "no-store",  # a unit's report must not come back from the cache after sign-out
}


@dataclass(frozen=True)
class NavLink:
    service: str
    label: str
    href: str
    current: bool


# Pages for some roles only, after the services: (the service that hosts it, its path, label, roles).
ROLE_PAGES = (
    ("intake", "/bao-cao/nhap-ho", "Nhập hộ", frozenset({"province_operator"})),
    ("intake", "/nhat-ky", "Nhật ký", frozenset({"admin", "national_operator", "province_operator"})),
    ("deadlines", "/tien-do/quoc-gia", "Tiến độ các tỉnh", frozenset({"admin", "national_operator"})),
    ("deadlines", "/he-thong", "Tình trạng hệ thống", frozenset({"admin", "national_operator"})),
)


def navigation(request: Request) -> list[NavLink]:
    """Links to the services this deployment knows, then the pages the signed-in role may open.

    Each service's link points at its start page (HOME_PATHS) at its public address; this service's is
    the current one unless a role page is.
    """
    settings = request.app.state.runtime.settings
    principal = getattr(request.state, "principal", None)
    here = settings.service_name
    pages = []
    for service, path, label, roles in ROLE_PAGES:
        base = "" if service == here else settings.public_url(service)
        if principal is not None and principal.role in roles and (base or service == here):
            pages.append(NavLink(service, label, base + path, service == here and request.url.path == path))
    on_page = any(link.current for link in pages)
    links = []
    for service, label in SERVICES:
        current = here == service
        base = "" if current else settings.public_url(service)
        if current or base:
            links.append(NavLink(service, label, base + HOME_PATHS[service], current and not on_page))
    return links + pages


def _site(request: Request) -> dict[str, Any]:
    settings = request.app.state.runtime.settings
    intake = "" if settings.service_name == "intake" else settings.public_url("intake")
    return {
        "site": {
            "nav": navigation(request),
            "principal": getattr(request.state, "principal", None),
            "csrf_field": csrf.FIELD,
            "csrf_token": csrf.token(request),
            "logout_url": f"{intake}/dang-xuat",
            "flashes": _flashes(request),
        }
    }


def local_time(instant: datetime | None, timezone: str = "Asia/Ho_Chi_Minh", fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An instant as the province's wall-clock time, e.g. 16/06/2019 00:00."""
    return instant.astimezone(ZoneInfo(timezone)).strftime(fmt) if instant else ""


def vn_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def templates_for(*package_dirs: str | Path) -> Jinja2Templates:
    """Templates looked up in the service's folders first, then in the shared layout; autoescape on."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in (*package_dirs, SHARED_TEMPLATES)])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(local_time=local_time, vn_date=vn_date)
    return Jinja2Templates(env=env, context_processors=[_site])


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


CSRF_REJECTED = (
    "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ, nên chưa được gửi. "
    "Vui lòng tải lại trang, nhập lại rồi gửi (trình duyệt cần cho phép cookie của trang này)."
)


def install_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    """Serve /static and answer a rejected form post with a 403 page in Vietnamese."""
    mount_static(app)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, csrf.FormRejected):  # unreadable, before its token could be checked
            context = {"title": "Không thể gửi biểu mẫu", "message": exc.message}
            return render(templates, request, "error.html", context, status_code=exc.status)
        context = {"title": "Không thể gửi biểu mẫu", "message": CSRF_REJECTED}
        return render(templates, request, "error.html", context, status_code=403)

    app.add_exception_handler(csrf.CsrfRejected, csrf_rejected)


def secure(request: Request, response: Response) -> Response:
    """Add the page security headers, the CSRF cookie when new, and clear shown flashes."""
    response.headers.update(SECURITY_HEADERS)
    csrf.set_cookie(request, response)
    if getattr(request.state, "flashes_shown", False):
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax", secure=csrf.over_https(request))
    return response


def render(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
    return secure(request, response)


def redirect(request: Request, url: str, *, flash: str | None = None) -> Response:
    """303 See Other (a POST's answer becomes a GET), optionally with a message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            quote(flash),
            path="/",
            max_age=120,
            httponly=True,
            samesite="lax",
            secure=csrf.over_https(request),
        )
    return secure(request, response)


def _flashes(request: Request) -> list[str]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    request.state.flashes_shown = True
    return [unquote(raw)[:500]]
