"""The staff office's compliance dashboard in real Chromium: six months of Hải Dương, then a nudge.

deadlines runs under uvicorn on a free loopback port, on the real PostgreSQL and Kafka fixtures, with
its clock at 20 June 2019. The catalogue and the units' submissions of January to June 2019 go
through deadlines' own use cases, and the scheduler is ticked month by month. Screenshots at
desktop and phone widths go to artifacts/screenshots/ for a person to look at.
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
from baocao_shared.events.submissions import SubmissionV1
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.config import Settings
from deadlines.handlers import catalog, submissions
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from tests.browser.kit import SHOTS, serving, shot, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = parse_province_file((REPO / "deploy" / "provinces" / "30-hai-duong.yaml").read_text(encoding="utf-8"))
# Other tests publish plan 467 on the same broker: this one runs on its own plan id, from January.
PLAN = HAI_DUONG.plans[0].model_copy(update={"id": f"browser-{uuid.uuid4().hex[:8]}", "first_period": "2019-01"})
VN = timedelta(hours=7)


def vn(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=UTC) - VN


def reports(month: int) -> list[SubmissionV1]:
    """A plausible month: most units on time, some late by hours or days, a few never; some amend late."""
    found = []
    for index, unit in enumerate(PLAN.units):
        mood = (index * 7 + month * 3) % 10
        if mood == 9 or (month == 6 and mood == 8):
            continue  # never reports
        first = vn(month, 8 + mood, 9, 15) if mood < 6 else vn(month, 16 + (mood - 6) * 2, 14, 40 + mood)
        versions = 2 if mood in (2, 7) else 1  # an amendment after the deadline
        sid = uuid.uuid4()
        for version in range(1, versions + 1):
            received = first if version == 1 else vn(month, 19, 10)
            found.append(
                SubmissionV1(
                    submission_id=sid,
                    province="30",
                    unit=unit,
                    plan_id=PLAN.id,
                    period=f"2019-{month:02d}",
                    version=version,
                    values={"t1_sessions": version},
                    narratives={},
                    received_at=received,
                    first_received_at=first,
                )
            )
    return found


async def _seed(database_url: str) -> None:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
            await catalog.province_upserted(uow, HAI_DUONG.province)
            for unit in HAI_DUONG.units:
                await catalog.unit_upserted(uow, unit)
            await catalog.plan_upserted(uow, PLAN)
            for month in range(1, 7):
                for report in reports(month):
                    await submissions.submission_recorded(uow, report)
        for month in range(1, 7):
            await tick(sessionmaker, now=vn(month, 10, 10))
        await tick(sessionmaker, now=vn(6, 20, 10))
    finally:
        await engine.dispose()


@pytest.fixture
def deadlines(postgres, kafka, group_prefix) -> Iterator[SimpleNamespace]:
    """deadlines served over real HTTP (uvicorn in a thread), its clock at 20 June 2019 10:00."""
    june_20 = {"scheduler_enabled": False, "clock": "simulated", "clock_start": vn(6, 20, 10), "clock_speed": 1}
    with serving(create_app, Settings, "deadlines", postgres, kafka, group_prefix, **june_20) as app:
        asyncio.run(_seed(app.settings.database_url))
        yield app


async def operator_page(browser: Browser, deadlines: SimpleNamespace, *, phone: bool = False) -> Page:
    return await signed_in(browser, deadlines.url, deadlines.mint.token("province_operator", "30"), phone=phone)


async def test_the_staff_office_follows_june_and_urges_the_units_that_have_not_reported(deadlines, browser):
    dashboard = f"{deadlines.url}/tien-do?province=30&plan_id={PLAN.id}"
    desktop = await operator_page(browser, deadlines)
    await desktop.goto(dashboard)
    await expect(desktop.get_by_role("heading", level=1)).to_have_text("Tiến độ báo cáo kỳ 2019-06")
    await expect(desktop.locator("#han-gui")).to_have_text("Hạn gửi: trước 00:00 ngày 16/06/2019")
    await expect(desktop.locator("#so-lieu")).to_contain_text("Số đơn vị phải báo cáo")
    await expect(desktop.locator(".history-badges").first.locator("li")).to_have_count(6)
    await shot(desktop, "deadlines-desktop-1-tien-do")

    boxes = desktop.locator("#don-doc input[type=checkbox]")
    count = await boxes.count()
    assert count >= 2, "June has units that have not reported"
    await boxes.first.uncheck()
    await desktop.get_by_label("Lời nhắn (không bắt buộc)").fill("Đề nghị đơn vị gửi báo cáo trước 17 giờ hôm nay.")
    await shot(desktop, "deadlines-desktop-2-don-doc", full_page=False)
    await desktop.get_by_role("button", name="Gửi nhắc nhở (đôn đốc)").click()
    await expect(desktop.locator(".flash")).to_have_text(f"Đã gửi nhắc nhở tới {count - 1} đơn vị.")
    await shot(desktop, "deadlines-desktop-3-da-nhac", full_page=False)

    phone = await operator_page(browser, deadlines, phone=True)
    await phone.goto(dashboard)
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Tiến độ báo cáo kỳ 2019-06")
    await shot(phone, "deadlines-phone-1-tien-do")
    await shot(phone, "deadlines-phone-1-tien-do-man-hinh-dau", full_page=False)
    await phone.locator("#don-vi").evaluate("heading => heading.scrollIntoView()")
    await shot(phone, "deadlines-phone-2-don-vi", full_page=False)
    await phone.locator("#don-doc").screenshot(path=SHOTS / "deadlines-phone-3-don-doc.png")
    for page in (desktop, phone):
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"
