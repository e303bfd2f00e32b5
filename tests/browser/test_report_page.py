"""The province's consolidated report in real Chromium: the operator approves and publishes June 2019,
downloads the Word document, and the national office finds it in the national roll-up.

consolidation runs under uvicorn on a free loopback port, on the real PostgreSQL and Kafka fixtures,
with its clock at 18 June 2019. Hải Dương's catalogue and six units' reports go in through the
projection's own use cases, on a plan id of this test. Screenshots at desktop and phone widths go to
artifacts/screenshots/ for a person to look at.
"""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from playwright.async_api import Browser, Page, expect

from baocao_shared.db import make_engine, make_sessionmaker
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.samples import regime_file
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.config import Settings
from consolidation.handlers import projection
from consolidation.main import create_app
from intake.domain.catalog import parse_province_file
from intake.domain.regimes import parse_regime_file
from tests.browser.kit import serving, shot, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
HAI_DUONG = parse_province_file((REPO / "deploy" / "provinces" / "30-hai-duong.yaml").read_text(encoding="utf-8"))
# Other tests publish plan 467 on the same broker: this one runs on its own plan id, with six units.
UNITS = ["CA", "BTG", "STP", "UBND-TPHD", "UBND-CL", "UBND-TK"]
REGIME = parse_regime_file(regime_file()).regime
PLAN = HAI_DUONG.plans[0].model_copy(update={"id": f"browser-{uuid.uuid4().hex[:8]}", "units": UNITS})
PERIOD = "2019-06"
NOW = datetime(2019, 6, 18, 2, 0, tzinfo=UTC)  # 09:00 in Hải Dương
SESSIONS = {"CA": 4, "BTG": 6, "STP": 2, "UBND-TPHD": 3, "UBND-CL": 1}  # UBND-TK has not reported
NARRATIVES = {
    "CA": {
        "T1": "Tổ chức 4 hội nghị quán triệt Chỉ thị 44 cho cán bộ chủ chốt.\nLồng ghép vào sinh hoạt chi bộ.",
        "difficulties": "Kinh phí tuyên truyền còn hạn chế.",
    },
    "BTG": {"T2": "Phối hợp Báo Hải Dương mở chuyên mục về quyền con người.", "next_month": "Tiếp tục tuyên truyền."},
}


def report_of(unit: str, sessions: int, hour: int) -> SubmissionV1:
    at = datetime(2019, 6, 13, hour, tzinfo=UTC)
    return SubmissionV1(
        submission_id=uuid.uuid4(),
        province="30",
        unit=unit,
        plan_id=PLAN.id,
        period=PERIOD,
        version=1,
        values={"t1_sessions": sessions, "t1_participants": sessions * 45, "t5_articles": sessions + 1},
        narratives=NARRATIVES.get(unit, {}),
        received_at=at,
        first_received_at=at,
    )


async def _seed(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db, ConsolidationUnitOfWork(db) as uow:
            await projection.regime_upserted(uow, REGIME)  # the national regime plan 467 reports into
            await projection.province_upserted(uow, HAI_DUONG.province)
            for unit in HAI_DUONG.units:
                await projection.unit_upserted(uow, unit)
            await projection.plan_upserted(uow, PLAN)
            for hour, (unit, sessions) in enumerate(SESSIONS.items()):
                await projection.submission_recorded(uow, report_of(unit, sessions, hour))
    finally:
        await engine.dispose()


@pytest.fixture
def consolidation(postgres, kafka, group_prefix) -> Iterator[SimpleNamespace]:
    """consolidation served over real HTTP (uvicorn in a thread), its clock at 18 June 2019 09:00."""
    clock = {"clock": "simulated", "clock_start": NOW, "clock_speed": 1}
    with serving(create_app, Settings, "consolidation", postgres, kafka, group_prefix, **clock) as app:
        asyncio.run(_seed(app.settings.database_url))
        yield app


async def page_of(browser: Browser, app: SimpleNamespace, role: str, province=None, *, phone=False) -> Page:
    token = app.mint.token(role, province)
    return await signed_in(browser, app.url, token, phone=phone, accept_downloads=True)


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"


async def test_the_operator_approves_publishes_and_downloads_and_the_national_office_sees_it(
    consolidation, browser, tmp_path
):
    report = f"{consolidation.url}/tong-hop/30/{PERIOD}?plan_id={PLAN.id}"
    desktop = await page_of(browser, consolidation, "province_operator", "30")
    await desktop.goto(report)
    await expect(desktop.locator("#trang-thai")).to_have_text("Dự thảo")
    await expect(desktop.locator("#so-lieu")).to_contain_text("Công an tỉnh")
    await expect(desktop.locator("#tong-cong")).to_contain_text("16")  # 4 + 6 + 2 + 3 + 1 sessions
    await shot(desktop, "consolidation-desktop-1-du-thao")

    # The office writes section 1 in its editor (a plain form: no script needed), beside the units' words.
    editor = desktop.locator("#muc-t1")
    await expect(editor.locator(".editor__sources")).to_contain_text("Công an tỉnh")
    await expect(editor.locator("textarea")).to_contain_text("Số hội nghị, buổi quán triệt: 16 buổi")  # the draft
    await editor.locator("textarea").fill("Các đơn vị quán triệt đầy đủ Chỉ thị 44; Công an tỉnh tổ chức 4 hội nghị.")
    await editor.get_by_role("button", name="Lưu mục này").click()
    await expect(desktop.locator(".flash[role=status]")).to_have_text("Đã lưu mục báo cáo.")
    await expect(desktop.locator("#trang-thai-t1")).to_contain_text("Cơ quan thường trực sửa lúc")
    await expect(desktop.locator("#noi-dung-bao-cao")).to_contain_text("Công an tỉnh tổ chức 4 hội nghị.")
    await editor.scroll_into_view_if_needed()
    await shot(desktop, "consolidation-desktop-1b-soan-muc", full_page=False)

    await desktop.get_by_role("button", name="Duyệt báo cáo").click()
    await expect(desktop.locator(".flash[role=status]")).to_have_text("Đã duyệt báo cáo.")
    await expect(desktop.locator("#trang-thai")).to_have_text("Đã duyệt")
    await desktop.get_by_role("button", name="Gửi lên Văn phòng Thường trực").click()
    await expect(desktop.locator(".flash[role=status]")).to_have_text(
        "Đã cấp số, ký số và gửi báo cáo lên Văn phòng Thường trực."
    )
    await expect(desktop.locator("#trang-thai")).to_have_text("Đã gửi lên")
    await expect(desktop.locator("form#gui")).to_have_count(0)
    await shot(desktop, "consolidation-desktop-2-da-gui", full_page=False)

    async with desktop.expect_download() as waiting:
        await desktop.locator("#tai-ve").click()
    download = await waiting.value
    assert download.suggested_filename == f"bao-cao-30-{PERIOD}-so-1.docx"  # the register's first number
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    document = docx.Document(str(saved))
    words = "\n".join(
        [p.text for p in document.paragraphs]
        + [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    )
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in words
    assert "Số: 1/BC-BCĐNQ" in words and "Công an tỉnh tổ chức 4 hội nghị." in words

    # The signed PDF, and the page that says whether a file is the published document.
    async with desktop.expect_download() as waiting:
        await desktop.locator("#tai-pdf").click()
    pdf = tmp_path / (await waiting.value).suggested_filename
    await (await waiting.value).save_as(pdf)
    await desktop.goto(f"{consolidation.url}/kiem-tra-van-ban")
    await desktop.locator("#tep").set_input_files(str(pdf))
    await desktop.get_by_role("button", name="Kiểm tra").click()
    await expect(desktop.locator("#tieu-de-ket-qua")).to_have_text("Đúng văn bản đã phát hành, còn nguyên vẹn")
    await expect(desktop.locator("#so")).to_have_text("1/BC-BCĐNQ")
    await expect(desktop.locator("#chu-ky")).to_contain_text("HẢI DƯƠNG")
    await shot(desktop, "consolidation-desktop-2b-kiem-tra")
    tampered = tmp_path / "sua.pdf"
    body = bytearray(pdf.read_bytes())
    body[len(body) // 2] ^= 1
    tampered.write_bytes(bytes(body))
    await desktop.locator("#tep").set_input_files(str(tampered))
    await desktop.get_by_role("button", name="Kiểm tra").click()
    await expect(desktop.locator("#tieu-de-ket-qua")).to_have_text("Không khớp với văn bản nào đã phát hành")

    phone = await page_of(browser, consolidation, "province_operator", "30", phone=True)
    await phone.goto(report)
    await expect(phone.locator("#trang-thai")).to_have_text("Đã gửi lên")
    await shot(phone, "consolidation-phone-1-bao-cao")
    await shot(phone, "consolidation-phone-1-bao-cao-man-hinh-dau", full_page=False)
    await phone.locator("#so-lieu").evaluate("section => section.scrollIntoView()")
    await shot(phone, "consolidation-phone-2-phu-luc", full_page=False)

    national = await page_of(browser, consolidation, "national_operator")
    await national.goto(f"{consolidation.url}/quoc-gia/{PERIOD}")
    await expect(national.get_by_role("heading", level=1)).to_have_text(f"Tổng hợp toàn quốc kỳ {PERIOD}")
    row = national.locator(f"#tinh-30-{PLAN.id}")
    await expect(row).to_contain_text("Đã gửi")
    await expect(row).to_contain_text("18/06/2019 09:")
    await shot(national, "consolidation-desktop-3-quoc-gia")
    await row.get_by_role("link", name="Xem báo cáo").click()
    await expect(national.locator("#trang-thai")).to_have_text("Đã gửi lên")

    national_phone = await page_of(browser, consolidation, "national_operator", phone=True)
    await national_phone.goto(f"{consolidation.url}/quoc-gia/{PERIOD}")
    await shot(national_phone, "consolidation-phone-3-quoc-gia")
    await shot(national_phone, "consolidation-phone-3-quoc-gia-man-hinh-dau", full_page=False)
    # the first regime's table of provinces (one table per national regime)
    await national_phone.locator("[id^=cac-tinh-]").first.evaluate("table => table.scrollIntoView()")
    await shot(national_phone, "consolidation-phone-4-cac-tinh", full_page=False)
    for page in (desktop, phone, national, national_phone):
        await no_sideways_scroll(page)
