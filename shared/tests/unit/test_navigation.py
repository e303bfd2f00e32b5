"""The navigation bar and the sign-in address point where browsers reach the services (public_urls)."""

from types import SimpleNamespace

from starlette.requests import Request

from baocao_shared.settings import ServiceSettings
from baocao_shared.web import navigation
from baocao_shared.web.pages import intake_url

INTERNAL = {s: f"http://{s}:800{i}" for i, s in enumerate(["intake", "deadlines", "consolidation", "notify"], 1)}


def request_for(settings: ServiceSettings, path: str = "/") -> Request:
    app = SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(settings=settings)))
    return Request({"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b"", "app": app})


def test_behind_one_proxy_every_link_is_the_public_origin_and_the_service_start_page():
    settings = ServiceSettings(
        service_name="notify",
        database_url="postgresql+asyncpg://u@h/x",
        service_urls=INTERNAL,
        public_urls=dict.fromkeys(INTERNAL, "https://baocao.haiduong.gov.vn/"),
    )
    request = request_for(settings, "/thong-bao")
    assert [(link.href, link.current) for link in navigation(request)] == [
        ("https://baocao.haiduong.gov.vn/", False),
        ("https://baocao.haiduong.gov.vn/tien-do", False),
        ("https://baocao.haiduong.gov.vn/tong-hop", False),
        ("/thong-bao", True),
    ]
    assert intake_url(request) == "https://baocao.haiduong.gov.vn"
    assert settings.service_urls["intake"] == "http://intake:8001"  # server-side calls stay inside


def test_without_public_urls_the_service_urls_serve_browsers_too():
    settings = ServiceSettings(
        service_name="deadlines", database_url="postgresql+asyncpg://u@h/x", service_urls=INTERNAL
    )
    hrefs = [link.href for link in navigation(request_for(settings))]
    assert hrefs == [
        "http://intake:8001/",
        "/tien-do",
        "http://consolidation:8003/tong-hop",
        "http://notify:8004/thong-bao",
    ]
