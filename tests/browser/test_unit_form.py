"""A unit reports June 2019 in real Chromium: sign in, fill the form, get a receipt, amend, read the history.

intake runs under uvicorn on a free loopback port, on the real PostgreSQL and Kafka fixtures, with
the Hải Dương catalogue loaded and the simulated clock at 10 June 2019. Screenshots at desktop and
phone widths go to artifacts/screenshots/ for a person to look at.
"""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from baocao_shared.db import make_engine, make_sessionmaker
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import served
from baocao_testing.samples import before_the_merger, without_the_national_regime
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings
from intake.domain.catalog import parse_province_file
from intake.handlers import accounts
from intake.handlers.catalog import load_province
from intake.main import create_app
from tests.browser.kit import shot

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-thu-nghiem"
CATALOG = before_the_merger(  # in no national regime: the form's point is not the national roll-up
    parse_province_file(
        without_the_national_regime((REPO / "deploy" / "provinces" / "30-hai-duong.yaml").read_text(encoding="utf-8"))
    )
)
PLAN = CATALOG.plans[0]


@pytest.fixture
def intake_url(postgres, kafka, tmp_path: Path) -> Iterator[str]:
    """intake served over real HTTP (uvicorn in a thread) with plan 467 and the reporter 30-CA."""
    port = free_port()
    settings = Settings(
        database_url=asyncio.run(create_database(postgres, prefix="browser")),
        kafka_bootstrap_servers=kafka.bootstrap,
        env="test",
        home=tmp_path / "home",
        http_port=port,
        clock="simulated",
        clock_start="2019-06-10T03:00:00Z",
        clock_speed=1,
    )
    with served(create_app(settings), port, "intake") as url:
        asyncio.run(_seed(settings))
        yield url


async def _seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            now = settings.build_clock().now()
            await load_province(IntakeUnitOfWork(db), CATALOG, actor="test", now=now)
            await accounts.create_account(
                IntakeUnitOfWork(db),
                username="30-CA",
                password=PASSWORD,
                role="reporter",
                province="30",
                unit="CA",
                actor="test",
                now=now,
            )
    finally:
        await engine.dispose()


async def sign_in(page: Page, base: str, size: str) -> None:
    await page.goto(base + "/")
    await expect(page).to_have_url(re.compile(r"/dang-nhap\?next=%2F$"))
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    await shot(page, f"{size}-1-dang-nhap")
    await page.get_by_label("Tên đăng nhập").fill("30-CA")
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(base + "/")


async def test_a_unit_submits_and_amends_its_june_report_in_chromium(intake_url: str, browser: Browser):
    base = intake_url
    desktop = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    await sign_in(desktop, base, "desktop")
    row = desktop.get_by_role("row").filter(has_text="2019-06")
    await expect(row).to_contain_text("trước 00:00 ngày 16/06/2019")
    await expect(row).to_contain_text("Chưa nộp")
    await shot(desktop, "desktop-2-ky-bao-cao")

    await row.get_by_role("link", name="Nhập báo cáo").click()
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Báo cáo kỳ 2019-06")
    figures = desktop.locator("input[type=number]")
    await expect(figures).to_have_count(9)
    for n in range(9):
        await figures.nth(n).fill(str(n + 2))
    for task in PLAN.template.tasks:
        group = desktop.get_by_role("group", name=task.title)
        await group.get_by_label("Kết quả thực hiện").fill(f"Đã tổ chức quán triệt, tuyên truyền ({task.code}).")
    await desktop.get_by_label("Khó khăn, vướng mắc, đề xuất, kiến nghị").fill("Kinh phí tuyên truyền còn hạn chế.")
    await desktop.get_by_label(PLAN.template.closing_narratives["next_month"]).fill("Tiếp tục đẩy mạnh tuyên truyền.")
    await shot(desktop, "desktop-3-bieu-mau")
    await desktop.get_by_role("button", name="Gửi báo cáo").click()

    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Đã nhận báo cáo")
    receipt = desktop.locator(".facts")
    await expect(receipt).to_contain_text(re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))
    await expect(receipt).to_contain_text("phiên bản 1")
    await expect(receipt).to_contain_text(re.compile(r"10/06/2019 10:\d\d \(giờ Việt Nam\)"))
    await shot(desktop, "desktop-4-bien-nhan")

    await desktop.get_by_role("link", name="Về danh sách kỳ báo cáo").click()
    await expect(row).to_contain_text("Đã nộp (phiên bản 1)")
    await row.get_by_role("link", name="Sửa báo cáo").click()
    sessions = desktop.get_by_label("Số hội nghị, buổi quán triệt (buổi)")
    await expect(sessions).to_have_value("2")
    await sessions.fill("12")
    await desktop.get_by_role("button", name="Gửi bản sửa (phiên bản 2)").click()
    await expect(desktop.locator(".facts")).to_contain_text("phiên bản 2")
    await desktop.get_by_role("link", name="Xem lịch sử các phiên bản").click()
    await expect(desktop.get_by_role("heading", name="Phiên bản 2")).to_be_visible()
    await expect(desktop.locator(".history > li").first).to_contain_text("Số hội nghị, buổi quán triệt: 2 → 12")
    await shot(desktop, "desktop-5-lich-su")

    # The same unit on a phone: the pages fit 390 px, and a wrong figure is explained next to its field.
    phone_context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    phone = await phone_context.new_page()
    await sign_in(phone, base, "phone")
    await expect(phone.get_by_role("row").filter(has_text="2019-06")).to_contain_text("Đã nộp (phiên bản 2)")
    await shot(phone, "phone-2-ky-bao-cao")
    await phone.goto(base + f"/bao-cao/{PLAN.id}/2019-06")
    await phone.get_by_label("Số lượt người tham dự (lượt người)").fill("")
    await phone.get_by_role("button", name="Gửi bản sửa (phiên bản 3)").click()
    await expect(phone.get_by_role("alert")).to_contain_text("có 1 lỗi cần sửa")
    await expect(phone.locator("#v-t1_participants-loi")).to_have_text("Chưa nhập số liệu (ghi 0 nếu không có).")
    await shot(phone, "phone-3-bieu-mau-loi")
    await shot(phone, "phone-3-bieu-mau-loi-man-hinh-dau", full_page=False)
    await phone.locator("#v-t1_participants").focus()
    await shot(phone, "phone-4-o-loi", full_page=False)
    await phone.goto(base + f"/bao-cao/{PLAN.id}/2019-06/lich-su")
    await shot(phone, "phone-5-lich-su")
    for page in (desktop, phone):
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"
    await phone_context.close()
