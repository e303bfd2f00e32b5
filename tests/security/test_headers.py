"""Every answer of every service carries the security headers, and cookies are HttpOnly, SameSite, and
Secure when browsers reach the service over https (even behind a proxy that speaks plain http to it).

No database or broker: each app is made by its create_app and asked through httpx without its lifespan;
the answers checked here (pages that need no sign-in, the JSON probe, errors, /docs, /openapi.json,
static files) need neither.
"""

from __future__ import annotations

import re

import httpx
import pytest

from baocao_testing.html import Page, csrf_of
from consolidation.config import Settings as ConsolidationSettings
from consolidation.main import create_app as consolidation_app
from deadlines.config import Settings as DeadlinesSettings
from deadlines.main import create_app as deadlines_app
from intake.config import Settings as IntakeSettings
from intake.main import create_app as intake_app
from notify.config import Settings as NotifySettings
from notify.main import create_app as notify_app

APPS = {
    "intake": (intake_app, IntakeSettings),
    "deadlines": (deadlines_app, DeadlinesSettings),
    "consolidation": (consolidation_app, ConsolidationSettings),
    "notify": (notify_app, NotifySettings),
}
# A page of each service that a signed-out browser gets (the others send it to intake's sign-in).
PAGES = {"intake": "/dang-nhap", "deadlines": "/tien-do", "consolidation": "/tong-hop", "notify": "/thong-bao"}


def client(service: str, tmp_path, **settings) -> httpx.AsyncClient:
    factory, settings_class = APPS[service]
    app = factory(settings_class(home=tmp_path, **settings) if service == "intake" else settings_class(**settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000")


def directives(policy: str) -> dict[str, list[str]]:
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def assert_secure_headers(answer: httpx.Response, where: str) -> None:
    h = answer.headers
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    policy = directives(h.get("content-security-policy", ""))
    assert policy, f"{where}: no Content-Security-Policy"
    assert h.get("x-frame-options") == "DENY" or policy.get("frame-ancestors") == ["'none'"], where
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None and "'unsafe-inline'" not in scripts and "*" not in scripts, (where, scripts)
    assert policy.get("object-src") == ["'none'"], where


@pytest.mark.parametrize("service", sorted(APPS))
async def test_pages_api_errors_docs_and_static_files_send_the_security_headers(service, tmp_path):
    async with client(service, tmp_path) as http:
        answers = {
            "page": await http.get(PAGES[service]),
            "probe": await http.get("/healthz"),
            "not found": await http.get("/v1/khong-co"),
            "unauthenticated API": await http.get("/v1/ops/pipeline"),
            "openapi": await http.get("/openapi.json"),
            "docs": await http.get("/docs"),
            "redoc": await http.get("/redoc"),
            "stylesheet": await http.get("/static/baocao.css"),
        }
    assert answers["probe"].status_code == answers["docs"].status_code == answers["stylesheet"].status_code == 200
    assert answers["not found"].status_code == 404 and answers["unauthenticated API"].status_code == 401
    for what, answer in answers.items():
        assert_secure_headers(answer, f"{service} {what} ({answer.request.url.path})")
    # /docs keeps working: its one inline script is admitted by its hash, nothing else inline is.
    docs = answers["docs"]
    inline = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.S)
    assert len(inline) == 1
    hashes = [s for s in directives(docs.headers["content-security-policy"])["script-src"] if s.startswith("'sha256-")]
    assert len(hashes) == 1


@pytest.mark.parametrize("https", [False, True])
async def test_cookies_are_httponly_samesite_and_secure_when_the_public_url_is_https(https, tmp_path):
    public = {"public_urls": {"intake": "https://baocao.example.vn"}} if https else {}
    async with client("intake", tmp_path, **public) as http:
        form = await http.get("/dang-nhap")
        token = csrf_of(form)  # sent by hand: a Secure cookie does not go back over this test's plain http
        out = await http.post("/dang-xuat", data={"csrf_token": token}, headers={"Cookie": f"baocao_csrf={token}"})
    assert form.status_code == 200 and out.status_code == 303
    cookies = [*form.headers.get_list("set-cookie"), *out.headers.get_list("set-cookie")]
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"baocao_csrf", "baocao_flash", "baocao_session"} <= names
    for cookie in cookies:
        attributes = {p.strip().split("=")[0].lower(): p for p in cookie.split(";")[1:]}
        assert "httponly" in attributes and "samesite" in attributes, cookie
        assert ("secure" in attributes) is https, cookie
    assert Page.of(form.text).one("input", name="csrf_token")
