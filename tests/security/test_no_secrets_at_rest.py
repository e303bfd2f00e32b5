"""Passwords, API tokens and JWTs are kept nowhere in clear: no column of any table of any service's database,
and no record that went to Kafka, holds one after a run that uses them all.

The run, on the four apps in process: an admin signs in; creates a reporter with a password and sets it again;
seeds the demo accounts; the reporter fails once, then signs in through the API and the sign-in page; an API
token is issued, submits a report (an event on Kafka) and is revoked with another; every JWT is shown to the
other three services, by header and by cookie. Then every row of every table is read as text.
"""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from baocao_shared.events import topics
from baocao_testing.fixtures import create_database
from baocao_testing.html import csrf_of
from baocao_testing.kit import end_offsets, fresh_group_prefix, read_topic, wait_until
from intake.domain.catalog import parse_province_file
from intake.domain.synthetic import dump, synthetic_province
from intake.handlers.api_tokens import API_TOKEN_PREFIX

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CODE = "57"  # no other test's province: its events go to the shared broker
PROVINCE_FILE = dump(
    synthetic_province(
        yaml.safe_load((REPO / "deploy/provinces/30-hai-duong.yaml").read_text("utf-8")), code=CODE, units=2
    )
)
PLAN = parse_province_file(PROVINCE_FILE).plans[0]
FIGURES = {i.code: 1 for t in PLAN.template.tasks for i in t.indicators}
TOPICS = [topics.CATALOG, topics.SUBMISSIONS, topics.DEADLINES, topics.REPORTS, topics.NOTIFICATIONS]


def secret(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex}"


ADMIN_PASSWORD, FIRST_PASSWORD, SECOND_PASSWORD = secret("quan-tri"), secret("mat-khau-1"), secret("mat-khau-2")
WRONG_PASSWORD, DEMO_PASSWORD = secret("sai-mat-khau"), secret("demo")


@pytest.fixture(scope="module")
async def stack(postgres, kafka, tmp_path_factory):
    from consolidation.config import Settings as ConsolidationSettings
    from consolidation.main import create_app as consolidation_app
    from deadlines.config import Settings as DeadlinesSettings
    from deadlines.main import create_app as deadlines_app
    from intake.adapters.uow import IntakeUnitOfWork
    from intake.config import Settings as IntakeSettings
    from intake.handlers import accounts
    from intake.main import create_app as intake_app
    from notify.config import Settings as NotifySettings
    from notify.main import create_app as notify_app

    common = {"env": "test", "kafka_bootstrap_servers": kafka.bootstrap, "outbox_poll_interval_s": 0.2}
    prefix = {"consumer_group_prefix": await fresh_group_prefix(kafka.bootstrap)}
    urls = {name: await create_database(postgres, name) for name in ("intake", "deadlines", "consolidation", "notify")}
    intake = intake_app(
        IntakeSettings(
            database_url=urls["intake"],
            home=tmp_path_factory.mktemp("intake"),
            demo_password=DEMO_PASSWORD,
            clock="simulated",
            clock_start="2019-06-10T03:00:00Z",
            **common,
        )
    )
    verifier = intake.state.authenticator.verifier  # the others trust intake's key, as from its JWKS
    apps = {
        "intake": intake,
        "deadlines": deadlines_app(
            DeadlinesSettings(database_url=urls["deadlines"], scheduler_enabled=False, **common, **prefix),
            verifier=verifier,
        ),
        "consolidation": consolidation_app(
            ConsolidationSettings(database_url=urls["consolidation"], **common, **prefix), verifier=verifier
        ),
        "notify": notify_app(
            NotifySettings(database_url=urls["notify"], sender_enabled=False, **common, **prefix), verifier=verifier
        ),
    }
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        async with intake.state.runtime.sessionmaker() as db, db.begin():
            await accounts.create_account(
                IntakeUnitOfWork(db), username="quan-tri", password=ADMIN_PASSWORD, role="admin", province=None,
                unit=None, actor="test", now=intake.state.authenticator.clock.now(),
            )  # fmt: skip
        yield apps, urls


def client(app, **headers) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test", headers=headers)


async def sign_in(intake, username: str, password: str) -> str:
    async with client(intake) as c:
        answer = await c.post("/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def use_everything(apps) -> tuple[dict[str, str], str]:
    """The run; returns every secret it handled, by name, and the id of the report it submitted."""
    intake = apps["intake"]
    admin_jwt = await sign_in(intake, "quan-tri", ADMIN_PASSWORD)
    async with client(intake, Authorization=f"Bearer {admin_jwt}") as admin:
        loaded = await admin.put(
            f"/v1/admin/provinces/{CODE}", content=PROVINCE_FILE.encode(), headers={"Content-Type": "application/yaml"}
        )
        assert loaded.status_code in (200, 201), loaded.text
        account = {"username": f"{CODE}-U0001", "password": FIRST_PASSWORD, "role": "reporter"}
        created = await admin.post("/v1/admin/accounts", json={**account, "province": CODE, "unit": "U0001"})
        assert created.status_code == 201, created.text
        changed = await admin.put(f"/v1/admin/accounts/{CODE}-U0001/password", json={"password": SECOND_PASSWORD})
        assert changed.status_code == 204, changed.text
        demo = await admin.post("/v1/admin/demo-accounts")
        assert demo.status_code == 200 and f"op-{CODE}" in demo.text, demo.text

    async with client(intake) as c:
        wrong = await c.post("/v1/auth/token", data={"username": f"{CODE}-U0001", "password": WRONG_PASSWORD})
        assert wrong.status_code == 401
        page = await c.get("/dang-nhap")
        signed_in = await c.post(
            "/dang-nhap",
            data={"csrf_token": csrf_of(page), "username": f"{CODE}-U0001", "password": SECOND_PASSWORD},
        )
        assert signed_in.status_code == 303, signed_in.text
        cookie_jwt = signed_in.cookies["baocao_session"]
    reporter_jwt = await sign_in(intake, f"{CODE}-U0001", SECOND_PASSWORD)
    operator_jwt = await sign_in(intake, f"op-{CODE}", DEMO_PASSWORD)

    api_tokens = []
    async with client(intake, Authorization=f"Bearer {reporter_jwt}") as reporter:
        for label in ("phần mềm của đơn vị", "sẽ thu hồi"):
            issued = await reporter.post(f"/v1/units/{CODE}/U0001/api-tokens", json={"label": label})
            assert issued.status_code == 201, issued.text
            api_tokens.append(issued.json())
        revoked = await reporter.delete(f"/v1/units/{CODE}/U0001/api-tokens/{api_tokens[1]['id']}")
        assert revoked.status_code == 204
    async with client(intake, Authorization=f"Bearer {api_tokens[0]['token']}") as software:
        report = {"plan_id": PLAN.id, "unit": "U0001", "period": "2019-06", "values": FIGURES}
        submitted = await software.post("/v1/submissions", json=report)
        assert submitted.status_code == 201, submitted.text

    jwts = [admin_jwt, cookie_jwt, reporter_jwt, operator_jwt]
    calls = {
        "deadlines": (f"/v1/compliance?province={CODE}&period=2019-06", "/tien-do", "/he-thong"),
        "consolidation": (f"/v1/reports/{CODE}/2019-06", "/tong-hop", "/quoc-gia/2019-06"),
        "notify": ("/v1/inbox", "/hop-thu", "/thong-bao"),
    }
    for name, paths in calls.items():
        for token in jwts:
            for path in paths:
                async with client(apps[name], Authorization=f"Bearer {token}") as by_header:
                    assert (await by_header.get(path)).status_code < 500
                async with client(apps[name]) as by_cookie:
                    by_cookie.cookies.set("baocao_session", token)
                    assert (await by_cookie.get(path)).status_code < 500
    secrets = {f"password {p}": p for p in (ADMIN_PASSWORD, FIRST_PASSWORD, SECOND_PASSWORD, WRONG_PASSWORD)}
    secrets[f"demo password {DEMO_PASSWORD}"] = DEMO_PASSWORD
    for n, t in enumerate(api_tokens):
        secrets[f"API token {n + 1}"] = t["token"]
        secrets[f"API token {n + 1}, without its prefix"] = t["token"].removeprefix(API_TOKEN_PREFIX)
    for n, token in enumerate(jwts):
        secrets[f"JWT {n + 1}"] = token
        secrets[f"JWT {n + 1}, its signature"] = token.rsplit(".", 1)[1]
    return secrets, submitted.json()["id"]


async def every_row_as_text(database_url: str) -> dict[str, list[str]]:
    """Each table of the database's public schema, its rows as PostgreSQL writes a row in text."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return {
            t["tablename"]: [r[0] for r in await conn.fetch(f'SELECT t::text FROM "{t["tablename"]}" t')]
            for t in tables
        }
    finally:
        await conn.close()


async def test_no_password_api_token_or_jwt_is_kept_in_clear(stack, kafka):
    apps, urls = stack
    since = {topic: await end_offsets(kafka.bootstrap, topic) for topic in TOPICS}
    secrets, submission_id = await use_everything(apps)
    assert len(min(secrets.values(), key=len)) >= 20  # long enough not to turn up by chance

    async def submission_sent() -> bool:
        records = await read_topic(kafka.bootstrap, topics.SUBMISSIONS, since=since[topics.SUBMISSIONS])
        return any(submission_id in (r.value or b"").decode("utf-8", "replace") for r in records)

    await wait_until(submission_sent, timeout=30, what="the submission's event on Kafka")

    found, rows_read = [], {}
    for service, url in urls.items():
        tables = await every_row_as_text(url)
        rows_read[service] = sum(len(rows) for rows in tables.values())
        for table, rows in tables.items():
            for row in rows:
                found += [f"{service}.{table}: {name}" for name, value in secrets.items() if value in row]
    records = 0
    for topic in TOPICS:
        for record in await read_topic(kafka.bootstrap, topic, since=since[topic]):
            records += 1
            text = (record.value or b"").decode("utf-8", "replace") + " ".join(
                f"{k}={v.decode('utf-8', 'replace')}" for k, v in (record.headers or [])
            )
            found += [
                f"Kafka {topic}@{record.partition}:{record.offset}: {name}"
                for name, value in secrets.items()
                if value in text
            ]
    assert not found, "secrets kept in clear:\n" + "\n".join(sorted(set(found)))
    # The scan read what the run wrote: the accounts, the tokens' hashes, the report and its events.
    intake_tables = await every_row_as_text(urls["intake"])
    assert any(f"{CODE}-U0001" in row for row in intake_tables["accounts"])
    assert len(intake_tables["api_tokens"]) == 2 and any(submission_id in row for row in intake_tables["outbox"])
    assert all(rows_read.values()) and records >= 1, (rows_read, records)
