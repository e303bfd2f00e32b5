"""The national office's dashboard (tiến độ các tỉnh) in real Chromium: three provinces report to the national
office, January to June 2019, then the national office urges the one still missing.

deadlines runs under uvicorn on a free loopback port, on the real PostgreSQL and Kafka fixtures, with its clock at
21 June 2019. June: Hải Dương publishes on the 19th (on time), Hải Phòng at 09:30:07 on the 20th (late), Bắc Ninh
never (missing). The catalogue and the publications go through deadlines' own use cases. Screenshots at desktop
and phone widths go to artifacts/screenshots/ for a person to look at.
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
from baocao_shared.events.reports import ConsolidatedReportV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.config import Settings
from deadlines.handlers import catalog, national
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from tests.browser.kit import SHOTS, serving, shot, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = parse_province_file((REPO / "deploy" / "provinces" / "30-hai-duong.yaml").read_text(encoding="utf-8"))
PLAN_ID = f"quoc-gia-{uuid.uuid4().hex[:8]}"  # other tests publish plan 467 on the same broker
PROVINCES = {"30": "Tỉnh Hải Dương", "31": "Thành phố Hải Phòng", "27": "Tỉnh Bắc Ninh"}
VN = timedelta(hours=7)


def vn(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, second, tzinfo=UTC) - VN


def publication(code: str, month: int) -> datetime | None:
    """When the province first published its report of the month (None: never)."""
    if month == 6:
        return {"30": vn(6, 19, 15), "31": vn(6, 20, 9, 30, 7)}.get(code)
    mood = (int(code) + month * 3) % 5
    return None if mood == 4 else vn(month, 17 + mood, 10)  # on time up to the 19th, late on the 20th, 21st


async def _seed(database_url: str) -> None:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
            for code, name in PROVINCES.items():
                await catalog.province_upserted(uow, HAI_DUONG.province.model_copy(update={"code": code, "name": name}))
                await catalog.unit_upserted(uow, HAI_DUONG.units[0].model_copy(update={"province": code}))
                plan = HAI_DUONG.plans[0].model_copy(
                    update={
                        "province": code,
                        "id": PLAN_ID,
                        "units": [HAI_DUONG.units[0].code],
                        "first_period": "2019-01",
                    }
                )
                await catalog.plan_upserted(uow, plan)
        for month in range(1, 7):
            await tick(sessionmaker, now=vn(month, 10, 10))
            async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
                for code in PROVINCES:
                    at = publication(code, month)
                    if at is not None:
                        report = ConsolidatedReportV1.model_construct(
                            province=code, plan_id=PLAN_ID, period=f"2019-{month:02d}", published_at=at
                        )
                        await national.report_published(uow, report)
        await tick(sessionmaker, now=vn(6, 21, 10))
    finally:
        await engine.dispose()


@pytest.fixture
def deadlines(postgres, kafka, group_prefix) -> Iterator[SimpleNamespace]:
    """deadlines served over real HTTP (uvicorn in a thread), its clock at 21 June 2019 10:00."""
    june_21 = {"scheduler_enabled": False, "clock": "simulated", "clock_start": vn(6, 21, 10), "clock_speed": 1}
    with serving(create_app, Settings, "deadlines", postgres, kafka, group_prefix, **june_21) as app:
        asyncio.run(_seed(app.settings.database_url))
        yield app


async def national_page(browser: Browser, deadlines: SimpleNamespace, *, phone: bool = False) -> Page:
    return await signed_in(browser, deadlines.url, deadlines.mint.token("national_operator"), phone=phone)


async def test_the_national_office_follows_the_provinces_and_urges_the_one_missing(deadlines, browser):
    dashboard = f"{deadlines.url}/tien-do/quoc-gia?plan_id={PLAN_ID}"
    desktop = await national_page(browser, deadlines)
    await desktop.goto(dashboard)
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Tiến độ báo cáo của các tỉnh kỳ 2019-06")
    await expect(desktop.locator("#han-gui")).to_have_text("Hạn gửi: trước 00:00 ngày 20/06/2019")
    await expect(desktop.locator("#tinh-30")).to_contain_text("Đúng hạn")
    await expect(desktop.locator("#tinh-31")).to_contain_text("muộn 9 giờ 30 phút")
    await expect(desktop.locator("#tinh-27")).to_contain_text("Chưa gửi")
    await expect(desktop.locator("#so-lieu dd").first).to_have_text("3")  # Số tỉnh phải báo cáo
    await expect(desktop.locator("#so-lieu dd").nth(5)).to_have_text("66,7%")  # Tỷ lệ báo cáo
    await expect(desktop.locator("#tinh-30 .history-badges li")).to_have_count(6)
    await expect(desktop.get_by_role("link", name="Tiến độ các tỉnh")).to_have_attribute("aria-current", "page")
    await shot(desktop, "deadlines-national-desktop-1-tien-do")

    boxes = desktop.locator("#don-doc input[type=checkbox]")
    await expect(boxes).to_have_count(1)  # only Bắc Ninh has not published
    await desktop.get_by_label("Lời nhắn (không bắt buộc)").fill("Đề nghị tỉnh gửi báo cáo tổng hợp trong ngày.")
    await desktop.locator("#don-doc").scroll_into_view_if_needed()
    await shot(desktop, "deadlines-national-desktop-2-don-doc", full_page=False)
    await desktop.get_by_role("button", name="Gửi nhắc nhở (đôn đốc)").click()
    await expect(desktop.locator(".flash")).to_have_text("Đã gửi nhắc nhở tới 1 tỉnh.")
    await shot(desktop, "deadlines-national-desktop-3-da-nhac", full_page=False)

    phone = await national_page(browser, deadlines, phone=True)
    await phone.goto(dashboard)
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Tiến độ báo cáo của các tỉnh kỳ 2019-06")
    await shot(phone, "deadlines-national-phone-1-tien-do")
    await phone.locator("#don-doc").screenshot(path=SHOTS / "deadlines-national-phone-2-don-doc.png")
    for page in (desktop, phone):
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"
