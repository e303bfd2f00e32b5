"""The authorization matrix every service's tests run: each route x each actor, and the routes it must cover.

    rows = [Row("GET", "/v1/compliance", EVERY_READER, url="/v1/compliance?province=51&period=2019-06"), ...]
    assert_covers(app, rows, public=PUBLIC)                 # a route without a row fails, naming it
    mismatches = await run_matrix(app, rows, tokens, login=f"{INTAKE}/dang-nhap")
    assert not mismatches, "\\n".join(mismatches)

Actors are the same eight everywhere: anonymous; a reporter of the own unit, of another unit of the same
province, of a unit in another province; a province operator of the own and of another province; the
national office; an admin. A cell expects `OK` (let in: neither 401 nor 403, no server error, and a page is
not sent to sign in) or an exact status (403, or 404 where a resource of someone else is not even shown to
exist). Anonymous is expected to get 401 from the API and to be sent to the sign-in page by a page.
A row's `scope` check reads an allowed answer and says what it shows that the caller should not see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

OK = "allowed"
ACTOR_NAMES = (
    "anonymous",
    "reporter own unit",
    "reporter other unit",
    "reporter other province",
    "operator own province",
    "operator other province",
    "national",
    "admin",
)
SIGNED_IN = ACTOR_NAMES[1:]
CSRF = "matrix-csrf-token-0123456789abcdefghijklmnop"
# Routes every service serves to anyone: the probes, the metrics (scraped on the service's own port) and the docs.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
    }
)


def actors(province: str, unit: str, other_unit: str, other_province: str, foreign_unit: str) -> dict:
    """The eight actors as (role, province, unit), for a matrix whose resources belong to `province`/`unit`."""
    return {
        "anonymous": None,
        "reporter own unit": ("reporter", province, unit),
        "reporter other unit": ("reporter", province, other_unit),
        "reporter other province": ("reporter", other_province, foreign_unit),
        "operator own province": ("province_operator", province, None),
        "operator other province": ("province_operator", other_province, None),
        "national": ("national_operator", None, None),
        "admin": ("admin", None, None),
    }


def only(*allowed: str, otherwise: int = 403) -> dict[str, object]:
    """A row's cells: OK for the named actors, `otherwise` for every other signed-in one."""
    unknown = set(allowed) - set(SIGNED_IN)
    assert not unknown, unknown
    return {a: (OK if a in allowed else otherwise) for a in SIGNED_IN}


EVERYONE = only(*SIGNED_IN)
ADMIN_ONLY = only("admin")
OPS_READERS = only("national", "admin")  # GET /v1/ops/pipeline
PROVINCE_STAFF = only("operator own province", "national", "admin")  # read a province's work
PROVINCE_OPERATORS = only("operator own province", "admin")  # act on a province's work


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the app's path template, e.g. /v1/reports/{province}/{period}
    expected: Mapping[str, object]
    url: str | None = None  # the address asked (the route when None)
    page: bool = False  # a page: cookie session, CSRF on posts, anonymous sent to sign in
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    scope: Callable[[str, httpx.Response], str | None] | None = None  # what an allowed answer shows wrongly


def ops_rows() -> list[Row]:
    """The operators' API every service serves (baocao_shared.ops)."""
    return [
        Row("GET", "/v1/ops/pipeline", OPS_READERS),
        Row(
            "POST",
            "/v1/ops/dlq/{group}/replay",
            ADMIN_ONLY,
            url="/v1/ops/dlq/no-such-group/replay",
            kwargs={"json": {"partition": 0, "offset": 0}},
        ),
    ]


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path template) of every route of the app, included routers walked; mounts (static files) left out."""

    def walk(routes, prefix: str = ""):
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in route.methods - {"HEAD"}:
                    yield method, prefix + route.path

    return set(walk(app.router.routes))


def assert_covers(app, rows: Iterable[Row], *, public: Iterable[tuple[str, str]] = PUBLIC_ROUTES) -> None:
    """Every route of the app has a matrix row or is named public (a new route fails here); every row is real."""
    routes = app_routes(app)
    covered = {(r.method, r.route) for r in rows}
    public = set(public)
    missing = sorted(routes - covered - public)
    stale = sorted(covered - routes)
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    assert not stale, f"matrix rows for routes the app does not serve: {stale}"
    for row in rows:
        assert set(row.expected) == set(SIGNED_IN), f"{row.method} {row.route}: cells for {sorted(row.expected)}"


def _client(app, token: str | None, page: bool, base_url: str) -> httpx.AsyncClient:
    headers = {}
    if token and not page:
        headers["Authorization"] = f"Bearer {token}"
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers)
    if page:
        client.cookies.set("baocao_csrf", CSRF)
        if token:
            client.cookies.set("baocao_session", token)
    return client


def sent_to_sign_in(answer: httpx.Response, login: str) -> bool:
    return answer.status_code in (302, 303, 307) and answer.headers.get("location", "").startswith(login)


async def run_matrix(
    app, rows: Iterable[Row], tokens: Mapping[str, str | None], *, login: str, base_url: str = "http://svc.test"
) -> list[str]:
    """Ask every row as every actor, in order; the cells whose answer is not the expected one, described."""
    mismatches: list[str] = []
    for row in rows:
        for actor in ACTOR_NAMES:
            token = tokens[actor]
            kwargs = dict(row.kwargs)
            if row.page and row.method == "POST":
                kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": CSRF}
            async with _client(app, token, row.page, base_url) as client:
                answer = await client.request(row.method, row.url or row.route, **kwargs)
            got = answer.status_code
            cell = f"{row.method} {row.url or row.route} as {actor}"
            if actor == "anonymous":
                fine = sent_to_sign_in(answer, login) if row.page else got == 401
                if not fine:
                    where = answer.headers.get("location", "")
                    mismatches.append(f"{cell}: expected {'sign-in' if row.page else 401}, got {got} {where}")
                continue
            want = row.expected[actor]
            if want == OK:
                if got in (401, 403) or got >= 500 or (row.page and sent_to_sign_in(answer, login)):
                    mismatches.append(f"{cell}: expected to be let in, got {got} {_brief(answer)}")
                elif row.scope and (leak := row.scope(actor, answer)):
                    mismatches.append(f"{cell}: {leak}")
            elif got != want:
                mismatches.append(f"{cell}: expected {want}, got {got} {_brief(answer)}")
    return mismatches


def minted(mint, actors: Mapping[str, tuple | None]) -> dict[str, str | None]:
    """Each actor's token, signed by a TokenMint the app trusts (anonymous: none)."""
    return {name: (mint.token(*actor) if actor else None) for name, actor in actors.items()}


async def assert_matrix(
    app, rows: Iterable[Row], tokens: Mapping[str, str | None], *, login: str, base_url: str
) -> None:
    """Fail with every cell whose answer is not the expected one."""
    mismatches = await run_matrix(app, rows, tokens, login=login, base_url=base_url)
    assert not mismatches, "\n".join(mismatches)


def _brief(answer: httpx.Response) -> str:
    text = re.sub(r"\s+", " ", answer.text)
    return (answer.headers.get("location", "") + " " + text[:160]).strip()
