"""Oversized, wrongly encoded, malformed and hostile input to deadlines, consolidation and notify, over their
JSON API and their forms: a 4xx that says what is wrong (the forms in Vietnamese, on a page), never a 500,
and nothing stored changes. Intake, with its report form and province upload, has its own file
(services/intake/tests/integration/test_hostile_input.py).

Each test walks a table of cases over the three services, each on a fresh database, and lists every case
that answered otherwise.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from baocao_shared.auth import SESSION_COOKIE
from baocao_shared.web.csrf import COOKIE as CSRF_COOKIE
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, fresh_group_prefix

pytestmark = pytest.mark.integration
PROVINCE = "68"  # no other test's: the apps read the shared broker
KIB = 1024
LIMIT = 256 * KIB
TOKEN = "t" * 43  # the CSRF token of the cookie these clients send
AT = datetime(2019, 6, 18, 1, tzinfo=UTC)
DELIVERY, MESSAGE = uuid.uuid4(), uuid.uuid4()
OPERATOR, REPORTER = ("province_operator", PROVINCE, None), ("reporter", PROVINCE, "YT")


async def start(name: str, postgres, kafka, mint: TokenMint, **settings):
    module = __import__(f"{name}.main", fromlist=["create_app"])
    config = __import__(f"{name}.config", fromlist=["Settings"])
    app = module.create_app(
        config.Settings(
            database_url=await create_database(postgres, name),
            env="test",
            kafka_bootstrap_servers=kafka.bootstrap,
            consumer_group_prefix=await fresh_group_prefix(kafka.bootstrap),
            **settings,
        ),
        verifier=mint.verifier(),
    )
    return app


@pytest.fixture(scope="module")
async def services(postgres, kafka) -> AsyncIterator[dict]:
    """deadlines, consolidation and notify, each on a new database; notify holds a failed delivery of the
    province and an unread message of reporter 68-YT."""
    from notify.adapters import orm as notify_orm

    mint = TokenMint()
    apps = {
        "deadlines": await start("deadlines", postgres, kafka, mint, scheduler_enabled=False),
        "consolidation": await start("consolidation", postgres, kafka, mint),
        "notify": await start("notify", postgres, kafka, mint, sender_enabled=False),
    }
    async with (
        apps["deadlines"].router.lifespan_context(apps["deadlines"]),
        apps["consolidation"].router.lifespan_context(apps["consolidation"]),
        apps["notify"].router.lifespan_context(apps["notify"]),
    ):
        async with apps["notify"].state.runtime.sessionmaker() as db, db.begin():
            await db.execute(notify_orm.deliveries.insert(), [failed_delivery()])
            await db.execute(notify_orm.inbox_messages.insert(), [unread_message(mint)])
        yield {"apps": apps, "mint": mint}


def failed_delivery() -> dict:
    return {
        "id": DELIVERY,
        "cause_event_id": uuid.uuid4(),
        "cause_type": "vn.baocao.deadline.missed.v1",
        "province": PROVINCE,
        "period": "2019-06",
        "channel": "email",
        "recipient": "yte@example.vn",
        "unit": "YT",
        "subject": "[Quá hạn] Báo cáo tháng 06/2019",
        "body_text": "Kính gửi đơn vị, ...",
        "status": "failed",
        "attempts": 6,
        "last_error": "SMTPServerDisconnected",
        "created_at": AT,
        "sent_at": None,
    }


def unread_message(mint: TokenMint) -> dict:
    return {
        "id": MESSAGE,
        "delivery_id": uuid.uuid4(),
        "recipient": f"test-reporter-{PROVINCE}-YT",
        "title": "[Quá hạn] Báo cáo tháng 06/2019",
        "body": "Đơn vị chưa gửi báo cáo.",
        "created_at": AT,
        "read_at": None,
    }


def client(services, name: str, who: tuple) -> httpx.AsyncClient:
    """A client of one service signed in as `who` (the session cookie holds the token, as after sign-in),
    with the CSRF cookie its pages would have set."""
    token = services["mint"].token(*who)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=services["apps"][name]),
        base_url=f"http://{name}.test",
        cookies={SESSION_COOKIE: token, CSRF_COOKIE: TOKEN},
        headers={"Authorization": f"Bearer {token}"},
    )


async def snapshot(services) -> dict:
    """Every row of province 68 a request could change: events in the outboxes (without when the relay sent
    them), nudges' notices, reports and their audit, the delivery and the message. The apps also consume the
    shared broker, where other tests' provinces come and go: those rows are not compared."""
    from consolidation.adapters import orm as consolidation_orm
    from deadlines.adapters import orm as deadlines_orm
    from notify.adapters import orm as notify_orm

    tables = {
        "deadlines": [deadlines_orm.outbox, deadlines_orm.notices],
        "consolidation": [consolidation_orm.outbox, consolidation_orm.reports, consolidation_orm.audit_log],
        "notify": [notify_orm.outbox, notify_orm.deliveries, notify_orm.inbox_messages],
    }
    found = {}
    for name, chosen in tables.items():
        async with services["apps"][name].state.runtime.sessionmaker() as db:
            for table in chosen:
                rows = [dict(r._mapping) for r in (await db.execute(select(table))).all()]
                found[f"{name}.{table.name}"] = [
                    {k: v for k, v in row.items() if k != "sent_at"} for row in rows if ours(row)
                ]
    return found


def ours(row: dict) -> bool:
    payload = row.get("payload") or {}
    return (
        PROVINCE in (row.get("province"), payload.get("province"), (payload.get("data") or {}).get("province"))
        or row.get("id") in (DELIVERY, MESSAGE)
        or str(row.get("subject", "")).startswith(f"report:{PROVINCE}.")
    )


async def chunked(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // (16 * KIB) + 1):
        yield b" " * (16 * KIB)


def mismatch(name: str, answer: httpx.Response, status: int, *words: str) -> str | None:
    if answer.status_code == status and all(w in answer.text for w in words):
        return None
    return f"{name}: expected {status} saying {words}, got {answer.status_code}: {answer.text[:300]}"


# --- the JSON APIs ---------------------------------------------------------------------------------

NUDGE = {"province": PROVINCE, "period": "2019-06", "units": ["YT"], "message": "Đề nghị gửi báo cáo."}
REOPEN = {"reason": "Đơn vị bổ sung số liệu"}
# (service, who, path, a good body): each refused before its handler, whatever the handler would say.
JSON_ENDPOINTS = [
    ("deadlines", OPERATOR, "/v1/nudges", NUDGE),
    ("consolidation", ("admin", None, None), f"/v1/reports/{PROVINCE}/2019-06/reopen", REOPEN),
    ("notify", ("admin", None, None), "/v1/ops/dlq/notify/replay", {"topic": "x", "partition": 0, "offset": 0}),
]


def bodies(good: dict) -> list[tuple[str, bytes | object, str | None, int, tuple[str, ...]]]:
    """(case, body, content type, status, words) of one endpoint."""
    text = json.dumps(good, ensure_ascii=False)
    key = next(k for k, v in good.items() if isinstance(v, str))
    with_value = lambda v: json.dumps(good | {key: v}).encode()  # noqa: E731
    return [
        ("over 256 KiB, declared", b" " * (LIMIT + 1), "application/json", 413, ("larger than the 256 KiB",)),
        ("over 256 KiB, chunked", chunked(LIMIT + KIB), "application/json", 413, ("larger than the 256 KiB",)),
        ("latin-1", text.replace("ề", "e").encode().replace(b'"', b'"\xe9', 1), "application/json", 400,
         ("not_utf8", "byte 0xE9")),
        ("UTF-16", text.encode("utf-16"), "application/json", 400, ("UTF-16 byte order mark",)),
        ("NUL", with_value("a\x00b"), "application/json", 422, (f"body.{key} holds U+0000",)),
        ("a lone surrogate", with_value("\udfff"), "application/json", 422, ("U+DFFF",)),
        ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, ("nested more than",)),
        ("malformed", text[:-1].encode(), "application/json", 422, ("not valid JSON",)),
        ("text/plain", text.encode(), "text/plain", 415, ("Content-Type: application/json",)),
        ("a form", b"reason=x", "application/x-www-form-urlencoded", 415, ("application/x-www-form-urlencoded",)),
        ("a list", json.dumps([good]).encode(), "application/json", 422, ("must be a JSON object",)),
    ]  # fmt: skip


async def test_every_json_api_refuses_unreadable_bodies_with_a_4xx_and_changes_nothing(services):
    before = await snapshot(services)
    found = []
    for name, who, path, good in JSON_ENDPOINTS:
        async with client(services, name, who) as c:
            for case, body, media, status, words in bodies(good):
                answer = await c.post(path, content=body, headers={"Content-Type": media})
                found.append(mismatch(f"{name} {path} {case}", answer, status, *words))
    assert [f for f in found if f] == []
    assert await snapshot(services) == before


async def test_a_nul_in_an_address_is_a_400_before_any_query(services):
    cases = [
        ("deadlines", OPERATOR, "GET", f"/v1/compliance?province={PROVINCE}&period=2019-06%00"),
        ("deadlines", OPERATOR, "GET", f"/tien-do?province={PROVINCE}&plan_id=x%00y"),
        ("consolidation", OPERATOR, "GET", f"/v1/reports/{PROVINCE}/2019-06?plan_id=%00"),
        ("consolidation", OPERATOR, "GET", f"/tong-hop/{PROVINCE}/2019%0006"),
        ("notify", REPORTER, "POST", "/v1/inbox/%00/read"),
        ("notify", OPERATOR, "GET", f"/v1/deliveries?province={PROVINCE}&unit=Y%00T"),
    ]
    before = await snapshot(services)
    found = []
    for name, who, method, url in cases:
        async with client(services, name, who) as c:
            answer = await c.request(method, url)
        found.append(mismatch(f"{name} {url}", answer, 400, "NUL character (%00)"))
    assert [f for f in found if f] == []
    assert await snapshot(services) == before


# --- the forms ------------------------------------------------------------------------------------

FORMS = [
    ("deadlines", OPERATOR, "/tien-do/nhac", {"province": PROVINCE, "period": "2019-06", "units": "YT"}),
    ("consolidation", OPERATOR, f"/tong-hop/{PROVINCE}/2019-06/duyet", {}),
    ("notify", REPORTER, f"/hop-thu/{MESSAGE}/da-doc", {}),
    ("notify", REPORTER, "/hop-thu/da-doc-het", {}),
    ("notify", OPERATOR, f"/thong-bao/{DELIVERY}/gui-lai", {}),
]
FORM = "application/x-www-form-urlencoded"
A_FILE = b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\nx\r\n--b--\r\n'
TOO_LARGE = "Biểu mẫu quá lớn (quá 256 KiB) nên chưa được gửi"


def form_posts(fields: dict[str, str]) -> list[tuple[str, bytes | object, str, int, str]]:
    good = httpx.QueryParams(fields | {"csrf_token": TOKEN})
    encoded = str(good).encode()
    return [
        ("no CSRF token", str(httpx.QueryParams(fields)).encode(), FORM, 403, "thiếu mã bảo vệ"),
        ("a stranger's token", str(good.set("csrf_token", "x" * 43)).encode(), FORM, 403, "thiếu mã bảo vệ"),
        ("over 256 KiB, declared", encoded + b"&message=" + b"a" * LIMIT, FORM, 413, TOO_LARGE),
        ("over 256 KiB, chunked", chunked(LIMIT + KIB), FORM, 413, TOO_LARGE),
        ("latin-1", encoded + b"&message=L%E0m", FORM, 400, "không phải mã UTF-8"),
        ("raw bytes", encoded + b"&message=\xff\xfe", FORM, 400, "không phải mã UTF-8"),
        ("NUL", encoded + b"&message=a%00b", FORM, 400, "có ký tự U+0000 không hợp lệ"),
        ("JSON", json.dumps(fields | {"csrf_token": TOKEN}).encode(), "application/json", 415,
         "không phải dữ liệu biểu mẫu"),
        ("multipart with a file", A_FILE, "multipart/form-data; boundary=b", 400, "Biểu mẫu không đọc được"),
    ]  # fmt: skip


async def test_every_form_refuses_unreadable_posts_with_a_vietnamese_page_and_changes_nothing(services):
    before = await snapshot(services)
    found = []
    for name, who, path, fields in FORMS:
        async with client(services, name, who) as c:
            for case, body, media, status, words in form_posts(fields):
                answer = await c.post(path, content=body, headers={"Content-Type": media})
                found.append(mismatch(f"{name} {path} {case}", answer, status, words, "<html", 'lang="vi"'))
    assert [f for f in found if f] == []
    after = await snapshot(services)
    assert after == before, "the message is still unread and the delivery still failed"
    # The same forms, readable and with the token, do reach their handlers: the message is read now.
    async with client(services, "notify", REPORTER) as c:
        answer = await c.post(f"/hop-thu/{MESSAGE}/da-doc", data={"csrf_token": TOKEN})
    assert answer.status_code == 303, answer.text
    assert await snapshot(services) != before


async def test_a_nudge_message_with_control_or_bidi_characters_is_refused_with_what_to_change(services):
    """The message goes into mails and pages as written: a right-to-left override or a bell is refused by the
    API (422 naming the field) and by the dashboard's form (a Vietnamese page), and no notice is made."""
    before = await snapshot(services)
    found = []
    for character in ("\u202e", "\x07"):
        message = f"Đề nghị gửi báo cáo{character} ngay"
        async with client(services, "deadlines", OPERATOR) as c:
            answer = await c.post("/v1/nudges", json=NUDGE | {"message": message})
            found.append(mismatch(f"API U+{ord(character):04X}", answer, 422, '"message"]', "ký tự điều khiển"))
            fields = {"province": PROVINCE, "period": "2019-06", "units": "YT", "message": message}
            answer = await c.post("/tien-do/nhac", data=fields | {"csrf_token": TOKEN})
            found.append(
                mismatch(f"form U+{ord(character):04X}", answer, 422, f"ký tự điều khiển U+{ord(character):04X}")
            )
    assert [f for f in found if f] == []
    assert await snapshot(services) == before
