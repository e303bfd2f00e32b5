"""The one origin of docker compose: deploy/proxy/Caddyfile routes each page and API path to its service.

Checked without Docker or Caddy: the Caddyfile's path matchers are read with Caddy's rules (an exact
path, or a prefix ending in `*`; what no matcher takes goes to the last `handle`), and every route of
every service's real app must land on that service. A page added to a service without its path in
the Caddyfile fails here, naming it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from baocao_shared.web import HOME_PATHS

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy/proxy/Caddyfile"
SERVICES = ["intake", "deadlines", "consolidation", "notify"]
# Each service keeps these on its own port; behind the proxy they are intake's. The shared stylesheet
# (/static/baocao.css) is the same file in every service, so intake's serves them all. Where a period stands
# (/v1/periods, baocao_shared.periods_api) is answered alike by intake, deadlines and consolidation, each over
# its own copy of the catalogue; behind the proxy it is intake's.
PER_SERVICE = re.compile(
    r"^/(openapi\.json|docs|redoc|healthz|readyz|metrics|v1/ops|v1/periods)(/|$)|^/static/baocao\.css$"
)


def caddy_routes(text: str) -> tuple[list[tuple[list[str], str]], str]:
    """[(path patterns, upstream service)] in order, and the fallback's upstream service."""
    matchers = {m["name"]: m["paths"].split() for m in re.finditer(r"@(?P<name>\w+) path (?P<paths>[^\n]+)", text)}
    handles = [
        (m["name"], m["upstream"] or "refused")
        for m in re.finditer(r"handle(?: @(?P<name>\w+))? \{\s*(?:reverse_proxy (?P<upstream>\w+):\d+|respond )", text)
    ]
    routes = [(matchers[name], upstream) for name, upstream in handles if name]
    [fallback] = [upstream for name, upstream in handles if not name]
    return routes, fallback


def routed_to(path: str, routes: list[tuple[list[str], str]], fallback: str) -> str:
    for patterns, upstream in routes:
        if any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in patterns):
            return upstream
    return fallback


def app_paths(name: str, tmp_path: Path) -> list[str]:
    """Every route and mount of the service's real app, as a sample path ({x} → x)."""
    settings = importlib.import_module(f"{name}.config").Settings(
        database_url="postgresql+asyncpg://u@127.0.0.1/x", **({"home": tmp_path} if name == "intake" else {})
    )
    app = importlib.import_module(f"{name}.main").create_app(settings)

    def walk(routes, prefix: str = ""):
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "path", None) is not None:
                yield prefix + route.path + ("/baocao.css" if type(route).__name__ == "Mount" else "")

    return sorted({re.sub(r"\{[^}]+\}", "x", p) for p in walk(app.router.routes)})


@pytest.fixture(scope="module")
def proxy():
    return caddy_routes(CADDYFILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SERVICES)
def test_every_page_and_api_of_a_service_reaches_it_through_the_proxy(proxy, name, tmp_path):
    routes, fallback = proxy
    paths = [p for p in app_paths(name, tmp_path) if not PER_SERVICE.match(p) and not (p == "/" and name != "intake")]
    assert len(paths) > 3, paths
    elsewhere = {p: routed_to(p, routes, fallback) for p in paths if routed_to(p, routes, fallback) != name}
    assert elsewhere == {}, f"{name}'s paths that the proxy sends elsewhere"


@pytest.mark.parametrize(
    "path", ["/docs", "/openapi.json", "/metrics", "/readyz", "/v1/ops/pipeline", "/v1/ops/dlq/x/replay"]
)
def test_docs_metrics_probes_and_operations_stay_off_the_public_origin(proxy, path):
    routes, fallback = proxy
    assert routed_to(path, routes, fallback) == "refused"


def test_the_navigation_start_pages_are_routed_to_their_services(proxy):
    routes, fallback = proxy
    assert {s: routed_to(path, routes, fallback) for s, path in HOME_PATHS.items()} == {s: s for s in HOME_PATHS}


def test_compose_puts_the_proxy_on_loopback_and_the_links_behind_it():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    proxy = compose["services"]["proxy"]
    assert proxy["ports"] == ["127.0.0.1:${BAOCAO_PROXY_PORT:-8080}:8080"]
    assert "./deploy/proxy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert set(proxy["depends_on"]) == set(SERVICES)
    upstream_ports = dict(re.findall(r"reverse_proxy (\w+):(\d+)", CADDYFILE.read_text(encoding="utf-8")))
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert upstream_ports[name] == env["BAOCAO_HTTP_PORT"], f"the proxy reaches {name} on its port"
        public = env["BAOCAO_PUBLIC_URLS"]
        assert public.count("${BAOCAO_PUBLIC_URL:-http://127.0.0.1:8080}") == 4, "every link goes through the proxy"
