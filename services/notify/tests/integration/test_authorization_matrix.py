"""Every notify route (API, pages, forms, ops) x every actor: who gets in, who gets 403, 404 or the sign-in page.

Deliveries of province 55 (and one of 56) and an inbox message of unit 55/YT are written straight into
notify's tables; tokens come from a TokenMint the app trusts. An allowed answer is also read for what it
shows: the deliveries and inbox of someone else must not be in it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from baocao_shared.events.catalog import ProvinceV1, UnitV1
from baocao_testing.authz import (
    EVERYONE,
    PROVINCE_OPERATORS,
    PROVINCE_STAFF,
    Row,
    actors,
    assert_covers,
    assert_matrix,
    minted,
    only,
    ops_rows,
)
from baocao_testing.kit import TokenMint
from notify.adapters import orm
from notify.config import Settings
from notify.main import create_app
from services.notify.tests.integration.helpers import INTAKE, a_delivery_row, seeded_notify

pytestmark = pytest.mark.integration
OWN, OTHER = "55", "56"  # no other test's provinces: the app reads the shared broker
ACTORS = actors(OWN, "YT", "GD", OTHER, "YT")
PRIVATE_TITLE = "[Quá hạn] Thư riêng của Sở Y tế 55"
OWN_RECIPIENT, FOREIGN_RECIPIENT = "yte55@example.vn", "yte56@example.vn"
AT = datetime(2019, 6, 14, 1, tzinfo=UTC)


def delivery(province: str, recipient: str, status: str) -> dict:
    failed = status == "failed"
    return a_delivery_row(
        province, unit="YT", recipient=recipient, status=status, attempts=6 if failed else 1,
        last_error="SMTPRecipientsRefused" if failed else None, created_at=AT, sent_at=AT if status == "sent" else None,
    )  # fmt: skip


SENT = delivery(OWN, OWN_RECIPIENT, "sent")
FAILED_API, FAILED_PAGE = delivery(OWN, OWN_RECIPIENT, "failed"), delivery(OWN, OWN_RECIPIENT, "failed")
FOREIGN = delivery(OTHER, FOREIGN_RECIPIENT, "sent")
MESSAGE = {
    "id": uuid.uuid4(),
    "delivery_id": uuid.uuid4(),
    "recipient": f"test-reporter-{OWN}-YT",  # TokenMint's subject for the reporter of 55/YT
    "title": PRIVATE_TITLE,
    "body": "Đơn vị chưa gửi báo cáo tháng 06/2019.",
    "created_at": AT,
    "read_at": None,
}


@pytest.fixture(scope="module")
async def notify(postgres, kafka):
    mint = TokenMint()
    catalogue = [
        *(
            ProvinceV1(code=code, name=f"Tỉnh Thử {code}", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
            for code in (OWN, OTHER)
        ),
        *(UnitV1(province=code, code=unit, name=unit, kind="member") for code in (OWN, OTHER) for unit in ("YT", "GD")),
    ]
    rows = [SENT, FAILED_API, FAILED_PAGE, FOREIGN]
    async with seeded_notify(postgres, kafka, mint, catalogue=catalogue, deliveries=rows, messages=[MESSAGE]) as app:
        yield app, mint


def own_province_only(actor: str, answer) -> str | None:
    """A list of province 55's deliveries shows none of 56's."""
    if FOREIGN_RECIPIENT in answer.text:
        return f"shows a delivery of province {OTHER}"
    return None


def operators_own_province(actor: str, answer) -> str | None:
    """/thong-bao without a province: an operator sees their own province's deliveries, not another's."""
    if actor == "operator other province" and OWN_RECIPIENT in answer.text:
        return f"an operator of {OTHER} is shown the deliveries of {OWN}"
    if actor == "operator own province" and FOREIGN_RECIPIENT in answer.text:
        return f"an operator of {OWN} is shown the deliveries of {OTHER}"
    return None


def own_inbox_only(actor: str, answer) -> str | None:
    shown = PRIVATE_TITLE in answer.text
    if shown != (actor == "reporter own unit"):
        return "the inbox shows another account's message" if shown else "the inbox misses the account's message"
    return None


def rows() -> list[Row]:
    message, read = f"/v1/inbox/{MESSAGE['id']}/read", f"/hop-thu/{MESSAGE['id']}/da-doc"
    resend, resend_page = f"/v1/deliveries/{FAILED_API['id']}/resend", f"/thong-bao/{FAILED_PAGE['id']}/gui-lai"
    return [
        Row("GET", "/v1/deliveries", PROVINCE_STAFF, url=f"/v1/deliveries?province={OWN}", scope=own_province_only),
        Row("POST", "/v1/deliveries/{delivery_id}/resend", PROVINCE_OPERATORS, url=resend),
        Row("GET", "/v1/inbox", EVERYONE, scope=own_inbox_only),
        Row("POST", "/v1/inbox/{message_id}/read", only("reporter own unit", otherwise=404), url=message),
        *ops_rows(),
        Row("GET", "/", EVERYONE, page=True),
        Row("GET", "/thong-bao", PROVINCE_STAFF, url=f"/thong-bao?province={OWN}", page=True, scope=own_province_only),
        Row(
            "GET",
            "/thong-bao",
            only("operator own province", "operator other province", "national", "admin"),
            page=True,
            scope=operators_own_province,
        ),
        Row("GET", "/thong-bao/{delivery_id}", PROVINCE_STAFF, url=f"/thong-bao/{SENT['id']}", page=True),
        Row("GET", "/thong-bao/{delivery_id}", PROVINCE_STAFF, url=f"/thong-bao/{FAILED_PAGE['id']}", page=True),
        Row("POST", "/thong-bao/{delivery_id}/gui-lai", PROVINCE_OPERATORS, url=resend_page, page=True),
        Row("GET", "/hop-thu", EVERYONE, page=True, scope=own_inbox_only),
        Row("POST", "/hop-thu/{message_id}/da-doc", only("reporter own unit", otherwise=404), url=read, page=True),
        Row("POST", "/hop-thu/da-doc-het", EVERYONE, page=True),
    ]


async def test_every_route_has_a_row():
    assert_covers(create_app(Settings(database_url="postgresql+asyncpg://u@127.0.0.1/x")), rows())


async def test_authorization_matrix(notify):
    app, mint = notify
    await assert_matrix(app, rows(), minted(mint, ACTORS), login=f"{INTAKE}/dang-nhap", base_url="http://notify.test")
    # The failed deliveries were put back in the queue once by an allowed caller, never by another.
    async with app.state.runtime.sessionmaker() as db:
        statuses = dict(
            (
                await db.execute(
                    orm.deliveries.select().with_only_columns(orm.deliveries.c.id, orm.deliveries.c.status)
                )
            ).all()
        )
    assert statuses[FAILED_API["id"]] == "pending" and statuses[FAILED_PAGE["id"]] == "pending"
