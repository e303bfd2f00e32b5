"""The office's pages to enter a unit's report on its behalf (nhập hộ), over HTTP without a browser, on plan 467 of
Hải Dương in June 2019: the operator picks the unit and the period, fills the unit's own form under a banner, and
the unit's own pages (its home, the history, the receipt) then say the office entered it, with the account."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select

from baocao_testing.html import Page, csrf_of
from intake.adapters import orm
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.catalog import parse_province_file
from intake.handlers.catalog import load_provinces

pytestmark = pytest.mark.integration

PASSWORD = "test-password-1"
HAI_DUONG = Path(__file__).resolve().parents[4] / "deploy" / "provinces" / "30-hai-duong.yaml"
CATALOG = parse_province_file(HAI_DUONG.read_text(encoding="utf-8"))
HAI_PHONG = parse_province_file(HAI_DUONG.with_name("31-hai-phong.yaml").read_text(encoding="utf-8"))
PLAN = CATALOG.plans[0]
ON_BEHALF = f"/bao-cao/nhap-ho/CA/{PLAN.id}/2019-06"
CODES = [i.code for t in PLAN.template.tasks for i in t.indicators]


@pytest.fixture
def intake_settings_overrides() -> dict:
    return {"clock": "simulated", "clock_start": "2019-06-10T03:00:00Z", "clock_speed": 1}


@pytest.fixture
def intake_catalog() -> SimpleNamespace:
    return SimpleNamespace(provinces=[], units=[], plans=[])  # loaded below from the real files


@asynccontextmanager
async def signed_in(intake, username: str, **scope) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own, signed in through the form as a new account `username`."""
    await intake.create_account(username, **scope)
    transport = httpx.ASGITransport(app=intake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        form = await client.get("/dang-nhap")
        credentials = {"csrf_token": csrf_of(form), "username": username, "password": PASSWORD}
        answer = await client.post("/dang-nhap", data=credentials)
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
async def office(intake) -> httpx.AsyncClient:
    """A client signed in as op-30, an operator of Hải Dương's staff office."""
    async with intake.transaction() as db:
        now = intake.app.state.runtime.clock.now()
        await load_provinces(IntakeUnitOfWork(db), [HAI_PHONG, CATALOG], actor="test", now=now)
    async with signed_in(intake, "op-30", role="province_operator", province="30") as client:
        yield client


def text_of(answer: httpx.Response) -> str:
    """The page as a person reads it: its words, without the markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", answer.text).split())


def figures() -> dict[str, str]:
    return {f"v.{code}": str(n) for n, code in enumerate(CODES, start=1)}


async def test_the_office_enters_a_paper_report_and_the_unit_sees_it_was_entered_on_its_behalf(intake, office):
    home = await office.get("/")
    assert 'href="/bao-cao/nhap-ho"' in home.text and "Nhập hộ" in text_of(home)
    chooser = Page.of((await office.get("/bao-cao/nhap-ho")).text)
    assert "CA" in [o.get("value") for o in chooser.all("option")]
    periods = await office.get("/bao-cao/nhap-ho", params={"don_vi": "CA"})
    assert periods.status_code == 200 and f'href="{ON_BEHALF}"' in periods.text

    form = await office.get(ON_BEHALF)
    shown = text_of(form)
    assert "Nhập hộ đơn vị Công an tỉnh — báo cáo nhận bằng giấy/email" in shown
    page = Page.of(form.text)
    assert page.one("form", method="post", **{"class": "report"})["action"] == ON_BEHALF
    assert [o["value"] for o in page.all("option")] == ["", "paper", "email"]
    sent = await office.post(ON_BEHALF, data=page.form_data() | figures() | {"source": "paper"})
    assert sent.status_code == 303, sent.text
    receipt = await office.get(sent.headers["location"])
    assert "Văn phòng nhập hộ (tài khoản op-30), báo cáo nhận bằng giấy" in text_of(receipt)
    assert f'href="{ON_BEHALF}/lich-su"' in receipt.text

    async with signed_in(intake, "30-CA", role="reporter", province="30", unit="CA") as unit:
        own_home = text_of(await unit.get("/"))
        assert "Đã nộp (phiên bản 1)" in own_home and "Văn phòng nhập hộ (tài khoản op-30)" in own_home
        history = text_of(await unit.get(f"/bao-cao/{PLAN.id}/2019-06/lich-su"))
        assert "Phiên bản 1" in history and "Văn phòng nhập hộ (tài khoản op-30), báo cáo nhận bằng giấy" in history
        own_receipt = await unit.get(sent.headers["location"])
        assert "Văn phòng nhập hộ (tài khoản op-30)" in text_of(own_receipt) and 'href="/"' in own_receipt.text

        # The unit amends it itself: its own version says nothing of the office.
        amend = Page.of((await unit.get(f"/bao-cao/{PLAN.id}/2019-06")).text)
        assert amend.all("select", name="source") == [], "a unit's own form asks no source"
        again = await unit.post(f"/bao-cao/{PLAN.id}/2019-06", data=amend.form_data() | {"v." + CODES[0]: "9"})
        assert again.status_code == 303
        history = text_of(await unit.get(f"/bao-cao/{PLAN.id}/2019-06/lich-su"))
        assert "Phiên bản 2" in history and history.count("Văn phòng nhập hộ") == 1, "version 2 is the unit's own"

    trail = text_of(await office.get("/nhat-ky"))
    assert "submission.received" in trail and "on_behalf" in trail


async def test_the_office_page_is_for_a_provinces_office_and_its_form_needs_the_csrf_token(intake, office):
    page = Page.of((await office.get(ON_BEHALF)).text)
    forged = await office.post(ON_BEHALF, data={**page.form_data(), "csrf_token": "forged"} | figures())
    assert forged.status_code == 403
    unknown = await office.get("/bao-cao/nhap-ho", params={"don_vi": "XX"})
    assert unknown.status_code == 404
    async with signed_in(intake, "30-CA", role="reporter", province="30", unit="CA") as unit:
        assert (await unit.get("/bao-cao/nhap-ho")).status_code == 403
        assert (await unit.get(ON_BEHALF)).status_code == 403
    async with signed_in(intake, "national", role="national_operator") as national:
        assert (await national.get("/bao-cao/nhap-ho")).status_code == 403


async def test_another_provinces_office_cannot_reach_a_unit_of_hai_duong_through_the_form(intake, office):
    """Hải Phòng's office has a unit coded CA too: the form's address names a unit of the office's own province
    only, so Hải Dương's CA under plan 467 is not found for it, by GET or POST, and nothing is stored."""
    own = Page.of((await office.get(ON_BEHALF)).text)
    async with signed_in(intake, "op-31", role="province_operator", province="31") as other:
        chooser = await other.get("/bao-cao/nhap-ho")
        listed = {o.get("value") for o in Page.of(chooser.text).all("option") if o.get("value")}
        assert listed and listed <= {u.code for u in HAI_PHONG.units}, "its own units only"
        periods = await other.get("/bao-cao/nhap-ho", params={"don_vi": "CA"})
        assert periods.status_code == 200 and PLAN.id not in periods.text, "Hải Phòng's CA, not Hải Dương's"
        assert (await other.get(ON_BEHALF)).status_code == 404
        data = own.form_data() | figures() | {"csrf_token": csrf_of(chooser), "source": "paper"}
        refused = await other.post(ON_BEHALF, data=data)
        assert refused.status_code == 404 and "Đơn vị không báo cáo theo kế hoạch này" in text_of(refused)
    async with intake.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(orm.submission_versions)) == 0


async def test_the_office_enters_nothing_for_a_unit_after_it_ended(intake, office):
    """Hải Dương's units end with 2025-06 and plan 467 with them: a later period of theirs has no form."""
    after = await office.get(f"/bao-cao/nhap-ho/CA/{PLAN.id}/2025-07")
    assert after.status_code == 404 and "2025-07" in text_of(after)
