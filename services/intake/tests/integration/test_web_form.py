"""The units' web form over HTTP (no browser), on plan 467 of Hải Dương in June 2019."""

import re
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from baocao_testing.html import Page, csrf_of
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.catalog import parse_province_file
from intake.handlers.catalog import load_provinces

pytestmark = pytest.mark.integration

PASSWORD = "test-password-1"
HAI_DUONG = Path(__file__).resolve().parents[4] / "deploy" / "provinces" / "30-hai-duong.yaml"
CATALOG = parse_province_file(HAI_DUONG.read_text(encoding="utf-8"))
# Where Hải Dương's reporting went from 2025-07 (DEMO DATA): its file names these successors, so both load.
HAI_PHONG = parse_province_file(HAI_DUONG.with_name("31-hai-phong.yaml").read_text(encoding="utf-8"))
PLAN = CATALOG.plans[0]
JUNE = f"/bao-cao/{PLAN.id}/2019-06"
CODES = [i.code for t in PLAN.template.tasks for i in t.indicators]


@pytest.fixture
def intake_settings_overrides() -> dict:
    # 10 June 2019, 10:00 in Hải Dương: period 2019-06 is open and due before 16/06.
    return {"clock": "simulated", "clock_start": "2019-06-10T03:00:00Z", "clock_speed": 1, "login_backoff_base_s": 900}


@pytest.fixture
def intake_catalog() -> SimpleNamespace:
    return SimpleNamespace(provinces=[], units=[], plans=[])  # the `unit` fixture loads the real file


@pytest.fixture
async def unit(intake) -> httpx.AsyncClient:
    """The client, signed in through the form as reporter 30-CA of the real Hải Dương catalogue."""
    async with intake.transaction() as db:
        now = intake.app.state.runtime.clock.now()
        await load_provinces(IntakeUnitOfWork(db), [HAI_PHONG, CATALOG], actor="test", now=now)
    await intake.create_account("30-CA", role="reporter", province="30", unit="CA")
    answer = await sign_in(intake.client, "30-CA", PASSWORD)
    assert answer.status_code == 303, answer.text
    return intake.client


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await client.get("/dang-nhap")
    return await client.post(
        "/dang-nhap", data={"csrf_token": csrf_of(form), "username": username, "password": password}
    )


def report(**figures: int | str) -> dict[str, str]:
    """Form fields of a whole report: figures 1..9 unless given, and a narrative per task."""
    values = {code: n for n, code in enumerate(CODES, start=1)} | figures
    data = {f"v.{code}": str(value) for code, value in values.items()}
    data |= {f"n.{t.code}": f"Kết quả {t.code}: đã triển khai đầy đủ." for t in PLAN.template.tasks}
    return data | {"n.difficulties": "Chưa có khó khăn.", "n.next_month": "Tiếp tục tuyên truyền."}


async def post_form(client: httpx.AsyncClient, url: str, changes: dict[str, str]) -> httpx.Response:
    """Post the form at `url` as a browser would after the user typed `changes` into it."""
    page = Page.of((await client.get(url)).text)
    return await client.post(url, data=page.form_data() | changes)


async def test_signing_in_sets_an_httponly_session_cookie_and_goes_back_to_the_page_asked_for(intake, unit):
    unit.cookies.clear()
    assert (await unit.get(JUNE)).headers["location"] == "/dang-nhap?next=%2Fbao-cao%2Fhd-467-2019%2F2019-06"

    wrong = await sign_in(unit, "30-CA", "not-the-password")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text

    unit.cookies.clear()
    form = await unit.get("/dang-nhap", params={"next": JUNE})
    csrf_cookie = form.headers["set-cookie"]
    assert "baocao_csrf=" in csrf_cookie and "samesite=strict" in csrf_cookie.lower()
    answer = await unit.post(
        "/dang-nhap", data={**Page.of(form.text).form_data(), "username": "30-CA", "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.headers["location"] == JUNE
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("baocao_session=")
    assert {"httponly", "samesite=lax", "path=/", "max-age=28800"} <= {p.strip().lower() for p in cookie.split(";")}
    assert "secure" not in cookie.lower()  # plain http here; https gets Secure

    # Only a path on this site is a place to go back to.
    answer = await unit.post(
        "/dang-nhap",
        data={"csrf_token": csrf_of(form), "username": "30-CA", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert answer.headers["location"] == "/"

    out = await unit.post("/dang-xuat", data={"csrf_token": csrf_of(form)})
    assert out.status_code == 303 and 'baocao_session=""' in out.headers["set-cookie"]
    assert (await unit.get("/")).status_code == 303


async def test_over_https_the_session_cookie_is_secure(intake, unit):
    transport = httpx.ASGITransport(app=intake.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://intake.test") as client:
        answer = await sign_in(client, "30-CA", PASSWORD)
    assert answer.status_code == 303
    assert "secure" in {p.strip().lower() for p in answer.headers["set-cookie"].split(";")}


async def test_a_throttled_username_is_told_how_long_to_wait(intake, unit):
    unit.cookies.clear()
    for _ in range(3):
        await sign_in(unit, "30-CA", "wrong-password")
    answer = await sign_in(unit, "30-CA", PASSWORD)
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "Vui lòng thử lại sau 15 phút" in answer.text


async def test_the_periods_page_lists_june_2019_with_its_deadline(unit):
    page = await unit.get("/")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "Công an tỉnh" in text and "Tỉnh Hải Dương" in text
    assert "<strong>2019-06</strong>" in text and "15/05/2019 đến 14/06/2019" in text
    assert "trước 00:00 ngày 16/06/2019" in text and "Chưa nộp" in text
    assert f'href="{JUNE}"' in text
    assert "2019-07" not in text  # not open yet


async def test_the_form_has_a_fieldset_per_task_and_a_labelled_input_per_indicator(unit):
    page = Page.of((await unit.get(JUNE)).text)
    assert page.one("html")["lang"] == "vi"
    legends = page.legends()
    for task in PLAN.template.tasks:
        assert f"{task.code}. {task.title}" in legends
        for indicator in task.indicators:
            field = page.one("input", name=f"v.{indicator.code}")
            assert (field["type"], field["min"], field["step"], field["inputmode"]) == ("number", "0", "1", "numeric")
            assert page.label(field["id"]) == f"{indicator.label} ({indicator.unit})"
        assert page.label(f"n-{task.code}") == "Kết quả thực hiện"
    assert page.label("n-difficulties") == "Khó khăn, vướng mắc, đề xuất, kiến nghị"
    assert page.label("n-next_month") == PLAN.template.closing_narratives["next_month"]
    assert re.fullmatch(r"[0-9a-f-]{36}", page.one("input", name="idempotency_key")["value"])
    assert all(page.label(a["id"]) for a in page.all("input") + page.all("textarea") if a.get("type") != "hidden")


async def test_a_post_without_the_csrf_token_is_refused(intake, unit):
    for token in (None, "not-the-cookie-token"):
        data = report() | ({"csrf_token": token} if token else {})
        answer = await unit.post(JUNE, data=data)
        assert answer.status_code == 403 and "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ" in answer.text
    headers = await intake.headers_for("reporter")
    assert (await intake.client.get("/v1/submissions", headers=headers)).json() == []


async def test_a_valid_report_redirects_to_its_receipt_and_the_api_has_it(intake, unit):
    form = Page.of((await unit.get(JUNE)).text).form_data()
    answer = await unit.post(JUNE, data=form | report())
    assert answer.status_code == 303
    location = answer.headers["location"]
    submission_id = re.fullmatch(r"/bien-nhan/([0-9a-f-]{36})\?v=1", location).group(1)

    again = await unit.post(JUNE, data=form | report())  # a double click: same Idempotency key
    assert again.status_code == 303 and again.headers["location"] == location

    receipt = " ".join((await unit.get(location)).text.split())
    assert "Đã nhận báo cáo" in receipt and submission_id in receipt and "phiên bản 1" in receipt
    assert re.search(r"10/06/2019 10:0\d \(giờ Việt Nam\)", receipt)

    stored = await intake.client.get(f"/v1/submissions/{submission_id}", headers=await intake.headers_for("reporter"))
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["values"] == {code: n for n, code in enumerate(CODES, start=1)} and body["version"] == 1
    assert body["narratives"]["T1"] == "Kết quả T1: đã triển khai đầy đủ."

    periods = " ".join((await unit.get("/")).text.split())
    assert "Đã nộp (phiên bản 1)" in periods


async def test_wrong_figures_come_back_with_vietnamese_messages_next_to_their_fields(unit):
    answer = await post_form(unit, JUNE, report(t1_sessions=-2, t2_campaigns="abc", t5_rebuttals=7))
    assert answer.status_code == 422
    page = Page.of(answer.text)
    for code, message in (("t1_sessions", "Số liệu không được âm."), ("t2_campaigns", "Số liệu phải là số nguyên.")):
        field = page.one("input", name=f"v.{code}")
        assert field["aria-invalid"] == "true" and field["aria-describedby"] == f"v-{code}-loi"
        assert page.text(f"v-{code}-loi") == message
    assert page.one("input", name="v.t2_campaigns")["value"] == "abc"
    assert page.one("input", name="v.t5_rebuttals")["value"] == "7"
    assert "aria-invalid" not in page.one("input", name="v.t5_rebuttals")
    assert page.text("n-T3") == "Kết quả T3: đã triển khai đầy đủ."
    assert "có 2 lỗi cần sửa" in page.text("tom-tat-loi")


async def test_an_amendment_from_the_form_is_version_2_in_the_history(unit):
    first = await post_form(unit, JUNE, report())
    assert first.status_code == 303
    page = Page.of((await unit.get(JUNE)).text)
    assert page.one("input", name="base_version")["value"] == "1"
    assert page.one("input", name="v.t1_sessions")["value"] == "1"  # pre-filled

    second = await post_form(unit, JUNE, {"v.t1_sessions": "5", "n.T2": "Bổ sung: 2 phóng sự."})
    assert second.status_code == 303 and second.headers["location"].endswith("?v=2")
    history = " ".join((await unit.get(JUNE + "/lich-su")).text.split())
    assert "Phiên bản 2" in history and "Phiên bản 1" in history and "tài khoản 30-CA" in history
    assert re.search(r"Số hội nghị, buổi quán triệt: <span[^>]*>1</span> → <strong>5</strong>", history)
    assert "Nội dung đã sửa: T2. Kết quả thực hiện." in history
    assert "Đã nộp (phiên bản 2)" in (await unit.get("/")).text


async def test_a_locked_period_refuses_the_amendment_with_a_clear_message(intake, unit):
    assert (await post_form(unit, JUNE, report())).status_code == 303
    admin = await intake.headers_for("admin")
    locked = await intake.client.put(
        f"/v1/admin/locks/30/{PLAN.id}/2019-06", json={"reason": "Báo cáo tổng hợp đã phát hành"}, headers=admin
    )
    assert locked.status_code == 200, locked.text
    assert "Đã khóa" in (await unit.get("/")).text
    page = Page.of((await unit.get(JUNE)).text)
    assert page.all("fieldset", disabled="") and not page.all("button", type="submit", **{"class": "button"})

    answer = await unit.post(JUNE, data=page.form_data() | {"v.t1_sessions": "9"})
    assert answer.status_code == 409 and "Kỳ báo cáo này đã khóa" in answer.text


async def test_a_script_in_a_narrative_comes_back_as_text(unit):
    evil = '<script>alert("x")</script>'
    await post_form(unit, JUNE, report() | {"n.T1": evil})
    for answer in (await unit.get(JUNE), await post_form(unit, JUNE, {"n.T2": evil, "v.t1_sessions": "-1"})):
        assert "<script>" not in answer.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text


async def test_pages_carry_the_security_headers(unit):
    for path in ("/", JUNE, "/dang-nhap"):
        headers = (await unit.get(path)).headers
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert (await unit.get("/static/baocao.css")).headers["content-type"].startswith("text/css")


async def test_other_roles_are_told_the_form_is_for_units(intake, unit):
    unit.cookies.clear()
    await intake.create_account("op-30", role="province_operator", province="30")
    assert (await sign_in(intake.client, "op-30", PASSWORD)).status_code == 303
    home = await intake.client.get("/")
    assert home.status_code == 200 and "Biểu mẫu nộp báo cáo dành cho đơn vị" in home.text
    assert (await intake.client.get(JUNE)).status_code == 403
