"""A unit submits through the form, and the operator then sees that unit turn on time on the dashboard.

intake and deadlines, both real, run under uvicorn on two free loopback ports, each on a database of
its own on the real PostgreSQL fixture, on the session's Kafka broker with one consumer group prefix
of this test. Both clocks are simulated from 10 June 2019 10:00 in Hải Dương, inside period 2019-06,
which is due before 00:00 on 16/06. Each service's `service_urls` names the other, so the navigation
bars link them, and deadlines verifies intake's tokens through intake's JWKS. Hải Dương's demo file
is loaded through intake under province code 88 and a plan id of this test (the broker is shared
with every other test); op-88 operates the province and 88-CA reports for Công an tỉnh. The
catalogue reaches deadlines over Kafka, and its scheduler opens 2019-06.

The operator signs in once, on intake, and follows the navigation to the dashboard on the other
port: a cookie belongs to a host, not to a host and port, so intake's session cookie for 127.0.0.1
is sent to deadlines on 127.0.0.1 too (a service under another host name, say localhost, would not
get it). The unit reports from a phone in a browser context of its own; the operator reloads until
the event has come through the broker. Screenshots at desktop and phone widths go to
artifacts/screenshots/form-to-dashboard-*.png for a person to look at.
"""

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from baocao_shared.auth import SESSION_COOKIE
from baocao_shared.db import make_engine, make_sessionmaker
from baocao_stack.ports import free_ports
from baocao_testing.fixtures import create_database
from baocao_testing.kit import served, wait_until
from baocao_testing.samples import demo_province_file
from deadlines.config import Settings as DeadlinesSettings
from deadlines.main import create_app as create_deadlines
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings as IntakeSettings
from intake.domain.catalog import parse_province_file
from intake.handlers import accounts
from intake.handlers.catalog import load_province
from intake.main import create_app as create_intake
from tests.browser import kit
from tests.browser.kit import DESKTOP, PHONE

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PROVINCE, UNIT, PERIOD = "88", "CA", "2019-06"
OPERATOR, REPORTER, PASSWORD = f"op-{PROVINCE}", f"{PROVINCE}-{UNIT}", "mat-khau-thu-nghiem"
NOW = "2019-06-10T03:00:00Z"  # 10:00 in Hải Dương; 2019-06 is due before 00:00 on 16/06
TAG = uuid.uuid4().hex[:8]


# The demo province under code 88, with a plan id and a mail domain of this run's own.
CATALOG = parse_province_file(demo_province_file(PROVINCE, f"browser-{TAG}"))
PLAN = CATALOG.plans[0]
UNIT_NAME = next(unit.name for unit in CATALOG.units if unit.code == UNIT)


async def _seed(settings: IntakeSettings) -> None:
    """The catalogue (its events go to the broker through intake's outbox) and the two accounts."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            now = settings.build_clock().now()
            await load_province(IntakeUnitOfWork(db), CATALOG, actor="test", now=now)
            for username, role, unit in ((OPERATOR, "province_operator", None), (REPORTER, "reporter", UNIT)):
                await accounts.create_account(
                    IntakeUnitOfWork(db),
                    username=username,
                    password=PASSWORD,
                    role=role,
                    province=PROVINCE,
                    unit=unit,
                    actor="test",
                    now=now,
                )
    finally:
        await engine.dispose()


async def _period_open(urls: dict[str, str]) -> None:
    """Wait until deadlines has read the catalogue from the broker and opened 2019-06 with every unit
    pending, asking its API with a token intake issued to the operator (so JWKS works too)."""
    async with httpx.AsyncClient(timeout=10) as http:
        signed = await http.post(f"{urls['intake']}/v1/auth/token", data={"username": OPERATOR, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        query = {"province": PROVINCE, "period": PERIOD, "plan_id": PLAN.id}

        async def opened() -> object:
            answer = await http.get(f"{urls['deadlines']}/v1/compliance", params=query, headers=headers)
            if answer.status_code != 200:
                return False
            statuses = {u["unit"]: u["status"] for u in answer.json()["units"]}
            return statuses == dict.fromkeys(PLAN.units, "pending")

        await wait_until(opened, timeout=90, interval=0.5, what=f"deadlines to open {PERIOD} of province {PROVINCE}")


@pytest.fixture
def stack(postgres, kafka, group_prefix, tmp_path: Path) -> Iterator[SimpleNamespace]:
    """intake and deadlines served over real HTTP, linked to each other, with province 88 loaded."""
    ports = dict(zip(("intake", "deadlines"), free_ports(2), strict=True))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    shared = {
        "kafka_bootstrap_servers": kafka.bootstrap,
        "env": "test",
        "consumer_group_prefix": group_prefix,
        "service_urls": urls,  # the navigation links, and deadlines' JWKS: intake's /.well-known/jwks.json
        "clock": "simulated",
        "clock_start": NOW,
        "clock_speed": 1,
    }
    intake = IntakeSettings(
        database_url=asyncio.run(create_database(postgres, prefix="browser")),
        http_port=ports["intake"],
        home=tmp_path / "home",
        **shared,
    )
    deadlines = DeadlinesSettings(
        database_url=asyncio.run(create_database(postgres, prefix="browser")),
        http_port=ports["deadlines"],
        **shared,
    )
    with ExitStack() as running:
        running.enter_context(served(create_intake(intake), ports["intake"], "intake"))
        asyncio.run(_seed(intake))
        running.enter_context(served(create_deadlines(deadlines), ports["deadlines"], "deadlines"))
        asyncio.run(_period_open(urls))
        yield SimpleNamespace(**urls)


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot for a person to look at, once the page is known not to scroll sideways."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways: {width} px"
    await kit.shot(page, f"form-to-dashboard-{name}", full_page=full_page)


async def sign_in(page: Page, username: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()


def figure(page: Page, label: str):
    """The value of one of the dashboard's summary figures."""
    return page.locator("#so-lieu > div").filter(has=page.get_by_text(label, exact=True)).locator("dd")


def rate(part: int, whole: int) -> re.Pattern:
    """A rate as the page writes it: one decimal, comma, rounded once from the counts (1/29 -> 3,4%)."""
    return re.compile("^" + re.escape(f"{100 * part / whole:.1f}".replace(".", ",")) + "%$")


async def test_a_unit_submits_through_the_form_and_the_operator_sees_it_turn_on_time(stack, browser: Browser):
    units = len(PLAN.units)
    dashboard = f"{stack.deadlines}/tien-do?province={PROVINCE}&plan_id={PLAN.id}"

    # The operator: deadlines sends a browser without a session to intake's sign-in page; after it,
    # intake's own home page, whose navigation leads to the dashboard on the other port.
    office = await browser.new_context(viewport=DESKTOP, locale="vi-VN")
    operator = await office.new_page()
    await operator.goto(dashboard)
    await expect(operator).to_have_url(f"{stack.intake}/dang-nhap")
    await sign_in(operator, OPERATOR)
    await expect(operator).to_have_url(f"{stack.intake}/")
    await shot(operator, "desktop-1-nop-bao-cao-nguoi-dieu-hanh")
    # intake's session cookie is host-only for 127.0.0.1, without a port: the browser offers it to deadlines too.
    [cookie] = [c for c in await office.cookies(stack.deadlines) if c["name"] == SESSION_COOKIE]
    assert cookie["domain"] == "127.0.0.1" and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    nav = operator.get_by_role("navigation", name="Các dịch vụ")
    await nav.get_by_role("link", name="Tiến độ").click()
    await expect(operator).to_have_url(re.compile(rf"^{re.escape(stack.deadlines)}/tien-do\?province={PROVINCE}"))
    await operator.goto(dashboard)  # by its plan: a broker kept from earlier runs may know other plans of 88
    await expect(operator.get_by_role("heading", level=1)).to_have_text(f"Tiến độ báo cáo kỳ {PERIOD}")
    await expect(operator.locator(".account__name")).to_have_text(OPERATOR)
    await expect(operator.locator("#han-gui")).to_have_text("Hạn gửi: trước 00:00 ngày 16/06/2019")
    await expect(operator.locator("caption")).to_have_text(f"{units} đơn vị phải báo cáo kỳ {PERIOD}")
    row = operator.locator(f"#don-vi-{UNIT}")
    status = row.locator("td[data-label='Tình trạng'] > .status")
    await expect(row).to_contain_text(UNIT_NAME)
    await expect(status).to_have_text("… Chưa đến hạn")
    await expect(row.locator("td[data-label='Nộp lần đầu']")).to_have_text("chưa có")
    await expect(figure(operator, "Đúng hạn")).to_have_text("0")
    await expect(figure(operator, "Chưa đến hạn")).to_have_text(str(units))
    await expect(figure(operator, "Tỷ lệ báo cáo")).to_have_text("0,0%")
    await shot(operator, "desktop-2-tien-do-truoc")

    # The unit, on a phone, in a browser of its own: sign in, fill June's report, get the receipt.
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
    reporter = await phone.new_page()
    await reporter.goto(f"{stack.intake}/")
    await expect(reporter).to_have_url(f"{stack.intake}/dang-nhap?next=%2F")
    await sign_in(reporter, REPORTER)
    await expect(reporter).to_have_url(f"{stack.intake}/")
    period_row = reporter.get_by_role("row").filter(has_text=PERIOD)
    await expect(period_row).to_contain_text("Chưa nộp")
    await period_row.get_by_role("link", name="Nhập báo cáo").click()
    await expect(reporter.get_by_role("heading", level=1)).to_have_text(f"Báo cáo kỳ {PERIOD}")
    figures = reporter.locator("input[type=number]")
    await expect(figures).to_have_count(9)
    for n in range(9):
        await figures.nth(n).fill(str(n + 1))
    for task in PLAN.template.tasks:
        group = reporter.get_by_role("group", name=task.title)
        await group.get_by_label("Kết quả thực hiện").fill(f"Đã triển khai theo kế hoạch ({task.code}).")
    await reporter.get_by_label("Khó khăn, vướng mắc, đề xuất, kiến nghị").fill("Không có.")
    await reporter.get_by_label(PLAN.template.closing_narratives["next_month"]).fill("Tiếp tục tuyên truyền.")
    await shot(reporter, "phone-1-bieu-mau")
    await reporter.get_by_role("button", name="Gửi báo cáo").click()
    await expect(reporter.get_by_role("heading", level=1)).to_have_text("Đã nhận báo cáo")
    receipt = reporter.locator(".facts")
    await expect(receipt).to_contain_text("phiên bản 1")
    await expect(receipt).to_contain_text(re.compile(r"10/06/2019 10:\d\d \(giờ Việt Nam\)"))
    await shot(reporter, "phone-2-bien-nhan")

    # The operator reloads until submission.received has come from intake's outbox through Kafka.
    async def on_time() -> bool:
        await operator.reload()
        return (await status.inner_text()).strip() == "✓ Đúng hạn"

    await wait_until(on_time, timeout=60, interval=0.5, what=f"{UNIT} on time on the dashboard")
    await expect(status).to_have_class(re.compile(r"\bstatus--done\b"))
    await expect(row.locator("td[data-label='Nộp lần đầu']")).to_have_text(re.compile(r"^10/06/2019 10:\d\d$"))
    await expect(figure(operator, "Số đơn vị phải báo cáo")).to_have_text(str(units))
    await expect(figure(operator, "Đúng hạn")).to_have_text("1")
    await expect(figure(operator, "Chưa đến hạn")).to_have_text(str(units - 1))
    await expect(figure(operator, "Tỷ lệ báo cáo")).to_have_text(rate(1, units))
    await expect(figure(operator, "Tỷ lệ đúng hạn")).to_have_text(rate(1, units))
    await expect(operator.locator("#don-doc input[type=checkbox]")).to_have_count(units - 1)
    await expect(operator.locator(f"#don-doc input[value='{UNIT}']")).to_have_count(0)
    await shot(operator, "desktop-3-tien-do-sau")
    await row.evaluate("row => row.scrollIntoView({block: 'center'})")
    await shot(operator, "desktop-4-dong-don-vi", full_page=False)

    # The same session on the operator's phone (the cookies copied, no second sign-in).
    pocket = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", storage_state=await office.storage_state()
    )
    operator_phone = await pocket.new_page()
    await operator_phone.goto(dashboard)
    phone_row = operator_phone.locator(f"#don-vi-{UNIT}")
    await expect(phone_row.locator("td[data-label='Tình trạng'] > .status")).to_have_text("✓ Đúng hạn")
    await expect(figure(operator_phone, "Đúng hạn")).to_have_text("1")
    await shot(operator_phone, "phone-3-tien-do-sau")
    await shot(operator_phone, "phone-3-tien-do-sau-man-hinh-dau", full_page=False)
    await phone_row.evaluate("row => row.scrollIntoView({block: 'center'})")
    await shot(operator_phone, "phone-4-dong-don-vi", full_page=False)
    for context in (office, phone, pocket):
        await context.close()
