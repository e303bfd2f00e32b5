"""The deliveries page of notify in real Chromium: the staff office finds a failed notice and sends it again.

notify runs under uvicorn on a free loopback port, on the real PostgreSQL and Kafka fixtures, with its
sender off so that a delivery sent again stays pending on the page. A week of June 2019's notices
(real subjects and texts from notify's templates, for Hải Dương's units under a province code of this
test) is written into notify's tables. Screenshots at desktop and phone widths go to
artifacts/screenshots/ for a person to look at.
"""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.async_api import Browser, Page, expect

from baocao_shared.db import make_engine, make_sessionmaker
from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, REMINDER_DUE
from baocao_shared.events.reports import REPORT_APPROVED
from intake.domain.catalog import parse_province_file
from notify.adapters import orm
from notify.adapters.catalog import Catalogue
from notify.config import Settings
from notify.main import create_app
from notify.messages import render
from tests.browser.kit import serving, shot, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = parse_province_file((REPO / "deploy" / "provinces" / "30-hai-duong.yaml").read_text(encoding="utf-8"))
# notify's consumer reads the shared broker, where other tests publish notices for their provinces (30, 01,
# 8x, 93-99): a code no other test uses.
PROVINCE = "64"
PLACE = HAI_DUONG.province.model_copy(update={"code": PROVINCE})
CODES = ("CA", "BTG", "SNGV", "SYT", "SGDDT", "STP", "UBND-TPHD", "UBND-CL")
UNITS = {u.code: u.model_copy(update={"province": PROVINCE}) for u in HAI_DUONG.units if u.code in CODES}
OPERATOR = f"test-province_operator-{PROVINCE}"
DUE = datetime(2019, 6, 15, 17, tzinfo=UTC)  # 00:00 on 16/06/2019 in Hải Dương
SMTP_REFUSED = "SMTPRecipientsRefused: {'vanthu@sotuphap.example.vn': (550, b'5.1.1 Mailbox unavailable')}"
WEBHOOK_503 = "WebhookNotDelivered: HTTP 503 Service Unavailable from https://hooks.example.vn/…"


def row(cause_type: str, message, *, unit: str | None, channel: str, recipient: str, created: datetime, **values):
    return {
        "id": uuid.uuid4(),
        "cause_event_id": uuid.uuid4(),
        "cause_type": cause_type,
        "province": PROVINCE,
        "plan_id": "467",
        "period": "2019-06",
        "unit": unit,
        "channel": channel,
        "recipient": recipient,
        "subject": message.subject,
        "body_text": message.text,
        "body_html": message.html,
        "created_at": created,
        "status": "sent",
        "attempts": 1,
        "last_error": None,
        "sent_at": created + timedelta(seconds=4),
        **values,
    }


def notice(kind: str, code: str, **extra):
    return render(
        kind, unit_name=UNITS[code].name, period="2019-06", due_at=DUE, message=None,
        link="https://baocao.example.vn/dang-nhap", **{"late_by_s": None, **extra},
    )  # fmt: skip


def june() -> tuple[list[dict], dict]:
    """A week of notices; the one that failed to reach Sở Tư pháp is the test's."""
    reminder_at = datetime(2019, 6, 14, 1, tzinfo=UTC)
    rows = [
        row(REMINDER_DUE.type, notice("reminder", code), unit=code, channel="email",
            recipient=f"vanthu@{code.lower()}.example.vn", created=reminder_at + timedelta(minutes=i))
        for i, code in enumerate(list(UNITS)[:5])
    ]  # fmt: skip
    overdue_at = datetime(2019, 6, 17, 1, tzinfo=UTC)
    failed = row(
        DEADLINE_MISSED.type, notice("overdue", "STP", late_by_s=86400 + 3600), unit="STP", channel="email",
        recipient="vanthu@sotuphap.example.vn", created=overdue_at, status="failed", attempts=6,
        last_error=SMTP_REFUSED, sent_at=None,
    )  # fmt: skip
    missing = [{"unit": c, "unit_name": UNITS[c].name} for c in ("STP", "UBND-CL")]
    digest = render(
        "escalation", province_name=PLACE.name, period="2019-06", due_at=DUE, fire_at=overdue_at, expected=8,
        missing_units=missing, link=f"https://baocao.example.vn/tien-do?province={PROVINCE}",
    )  # fmt: skip
    approved = render(
        "report_approved", addressee=f"Cơ quan thường trực {PLACE.name}", province_name=PLACE.name,
        period="2019-06", at=overdue_at + timedelta(days=1), by="pho-truong-ban", link=None,
    )  # fmt: skip
    rows += [
        failed,
        row(DEADLINE_MISSED.type, notice("overdue", "UBND-CL", late_by_s=86400 + 3600), unit="UBND-CL",
            channel="webhook", recipient="https://hooks.example.vn/ubnd-cl", created=overdue_at + timedelta(minutes=1),
            status="pending", attempts=3, last_error=WEBHOOK_503, sent_at=None),
        row(ESCALATION_RAISED.type, digest, unit=None, channel="inbox", recipient=OPERATOR,
            created=overdue_at + timedelta(minutes=2)),
        row(REPORT_APPROVED.type, approved, unit=None, channel="inbox", recipient=OPERATOR,
            created=overdue_at + timedelta(days=1)),
    ]  # fmt: skip
    return rows, failed


async def _seed(database_url: str, rows: list[dict]) -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            await Catalogue(db).upsert_province(PLACE)
            for unit in UNITS.values():
                await Catalogue(db).upsert_unit(unit)
            await db.execute(orm.deliveries.insert(), rows)
            inbox = [r for r in rows if r["channel"] == "inbox"]
            await db.execute(
                orm.inbox_messages.insert(),
                [
                    {"id": uuid.uuid4(), "delivery_id": r["id"], "recipient": r["recipient"], "title": r["subject"],
                     "body": r["body_text"], "created_at": r["sent_at"],
                     "read_at": r["sent_at"] + timedelta(hours=2) if r["cause_type"] == REPORT_APPROVED.type else None}
                    for r in inbox
                ],
            )  # fmt: skip
    finally:
        await engine.dispose()


@pytest.fixture
def notify(postgres, kafka, group_prefix) -> Iterator[SimpleNamespace]:
    """notify served over real HTTP (uvicorn in a thread), its sender off."""
    rows, failed = june()
    with serving(create_app, Settings, "notify", postgres, kafka, group_prefix, sender_enabled=False) as app:
        asyncio.run(_seed(app.settings.database_url, rows))
        app.failed = failed
        yield app


async def operator_page(browser: Browser, notify: SimpleNamespace, *, phone: bool = False) -> Page:
    return await signed_in(browser, notify.url, notify.mint.token("province_operator", PROVINCE), phone=phone)


async def test_the_staff_office_sends_a_failed_notice_again(notify, browser):
    desktop = await operator_page(browser, notify)
    await desktop.goto(f"{notify.url}/")  # the operator's home is the deliveries of their province
    await expect(desktop.get_by_role("heading", level=1)).to_have_text(f"Thông báo đã gửi · {PLACE.name}")
    await expect(desktop.locator("#so-luong")).to_have_text("… Đang chờ 1 ✓ Đã gửi 7 ✗ Thất bại 1", use_inner_text=True)
    failed = desktop.locator(f"#thong-bao-{notify.failed['id']}")
    await expect(failed).to_contain_text("Thất bại")
    await expect(failed).to_contain_text("Lý do: SMTPRecipientsRefused")
    await expect(failed).to_contain_text("Sở Tư pháp")
    await shot(desktop, "notify-desktop-1-thong-bao")
    await failed.get_by_role("link").click()  # the message as Sở Tư pháp's mailbox refused it
    await expect(desktop.locator("#ly-do")).to_contain_text("Mailbox unavailable")
    await expect(desktop.locator("#van-ban-gui")).to_contain_text("Kính gửi: Sở Tư pháp")
    await shot(desktop, "notify-desktop-2-chi-tiet-that-bai")
    await desktop.go_back()

    await failed.get_by_role("button", name="Gửi lại").click()
    await expect(desktop.locator(".flash")).to_contain_text("trở lại hàng chờ gửi")
    await expect(failed).to_contain_text("Đang chờ")
    await expect(failed.get_by_role("button", name="Gửi lại")).to_have_count(0)
    await expect(desktop.locator("#so-luong")).to_have_text("… Đang chờ 2 ✓ Đã gửi 7 ✗ Thất bại 0", use_inner_text=True)
    await shot(desktop, "notify-desktop-3-da-gui-lai", full_page=False)

    await desktop.goto(f"{notify.url}/hop-thu")
    await expect(desktop.locator("#chua-doc")).to_have_text("Bạn có 1 thư chưa đọc.")
    await shot(desktop, "notify-desktop-4-hop-thu")

    await fits(desktop)

    phone = await operator_page(browser, notify, phone=True)
    await phone.goto(f"{notify.url}/thong-bao")
    await expect(phone.locator(f"#thong-bao-{notify.failed['id']}")).to_contain_text("Đang chờ")
    await fits(phone)
    await shot(phone, "notify-phone-1-thong-bao")
    await shot(phone, "notify-phone-1-thong-bao-man-hinh-dau", full_page=False)
    await phone.locator(f"#thong-bao-{notify.failed['id']}").scroll_into_view_if_needed()
    await shot(phone, "notify-phone-1-thong-bao-dong-da-gui-lai", full_page=False)
    await phone.goto(f"{notify.url}/thong-bao/{notify.failed['id']}")
    await fits(phone)
    await shot(phone, "notify-phone-2-chi-tiet")
    await phone.goto(f"{notify.url}/hop-thu")
    await fits(phone)
    await shot(phone, "notify-phone-3-hop-thu")


async def fits(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways: {width} px"
