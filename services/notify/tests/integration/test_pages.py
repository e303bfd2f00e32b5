"""notify's pages and their API twins over HTTP, on real PostgreSQL and Kafka (no browser).

The deliveries and inbox messages are written straight into notify's tables: what the pages show
and do is the point here, not how events become deliveries (test_delivery.py drives that). The
sender is off, so a delivery sent again stays pending for the test to see.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from baocao_shared.events.catalog import ProvinceV1, UnitV1
from baocao_testing.html import Page, csrf_of
from baocao_testing.kit import TokenMint
from notify.adapters import orm
from services.notify.tests.integration.helpers import INTAKE, insert, seeded_notify
from services.notify.tests.integration.helpers import a_delivery_row as delivery

pytestmark = pytest.mark.integration
# The app's consumer reads the shared broker, where other tests publish notices of their own provinces
# (30, 01, 8x, 93-99): these codes are no other test's. 61 is read only, 62 is where rows are sent
# again, 63 has a long list, 65 a published report's deliveries.
READ, RESEND, LONG, PUBLISHED = "61", "62", "63", "65"
OPERATOR = f"test-province_operator-{READ}"
REPORTER, OTHER_REPORTER = f"test-reporter-{READ}-YT", f"test-reporter-{READ}-GD"
WEBHOOK_ERROR = "HTTPStatusError: Server error '503 Service Unavailable' for url 'https://hooks.example.vn/gd'"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).astimezone(UTC)


REMINDER = delivery(
    READ, unit="YT", recipient="yte@example.vn", created_at=at("2019-06-14T08:00:00+07:00"),
    sent_at=at("2019-06-14T08:00:05+07:00"),
    subject="[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Y tế Thử: hạn 00:00 ngày 16/06/2019",
)  # fmt: skip
OVERDUE = delivery(
    READ, unit="GD", channel="webhook", recipient="https://hooks.example.vn/gd",
    cause_type="vn.baocao.deadline.missed.v1", status="failed", attempts=6, last_error=WEBHOOK_ERROR,
    created_at=at("2019-06-18T08:00:00+07:00"),
    subject="[Quá hạn] Sở Giáo dục Thử chưa gửi báo cáo tháng 06/2019",
    body_text="Kính gửi Sở Giáo dục Thử,\n\nĐơn vị chưa gửi báo cáo tháng 06/2019, đã quá hạn 2 ngày.",
)  # fmt: skip
DIGEST = delivery(
    READ, channel="inbox", recipient=OPERATOR, cause_type="vn.baocao.escalation.raised.v1", status="pending",
    attempts=2, last_error="OperationalError: the inbox was busy", created_at=at("2019-06-16T09:00:00+07:00"),
    subject="[Tổng hợp] 1 đơn vị chưa gửi báo cáo tháng 06/2019",
)  # fmt: skip
MAY_NUDGE = delivery(
    READ, unit="YT", recipient="yte@example.vn", cause_type="vn.baocao.nudge.requested.v1", period="2019-05",
    created_at=at("2019-05-20T10:00:00+07:00"), sent_at=at("2019-05-20T10:00:02+07:00"),
    subject='[Đôn đốc] <script>alert("x")</script> Sở Y tế Thử',
)  # fmt: skip
ELSEWHERE = delivery("30", unit="CA", recipient="ca@example.vn", created_at=at("2019-06-14T08:00:00+07:00"))


def message(recipient: str, title: str, created: str, *, read: bool = False) -> dict:
    created_at = at(created)
    return {
        "id": uuid.uuid4(),
        "delivery_id": uuid.uuid4(),
        "recipient": recipient,
        "title": title,
        "body": f"{title}\n\nXem chi tiết trên hệ thống.",
        "created_at": created_at,
        "read_at": created_at + timedelta(hours=1) if read else None,
    }


OLD_READ = message(REPORTER, "[Nhắc hạn] Báo cáo tháng 05/2019", "2019-05-14T08:00:00+07:00", read=True)
NEW_UNREAD = message(REPORTER, "[Quá hạn] Báo cáo tháng 06/2019", "2019-06-18T08:00:00+07:00")
NOT_MINE = message(OTHER_REPORTER, "[Đôn đốc] Thư của Sở Giáo dục Thử", "2019-06-17T08:00:00+07:00")


@pytest.fixture(scope="module")
async def notify(postgres, kafka):
    mint = TokenMint()
    catalogue = [
        *(
            ProvinceV1(code=code, name=name, issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
            for code, name in ((READ, "Tỉnh Thử Thông Báo"), (RESEND, "Tỉnh Thử Gửi Lại"))
        ),
        *(
            UnitV1(province=READ, code=code, name=name, kind="member")
            for code, name in (("YT", "Sở Y tế Thử"), ("GD", "Sở Giáo dục Thử"))
        ),
    ]
    deliveries, messages = [REMINDER, OVERDUE, DIGEST, MAY_NUDGE, ELSEWHERE], [OLD_READ, NEW_UNREAD, NOT_MINE]
    async with seeded_notify(
        postgres, kafka, mint, catalogue=catalogue, deliveries=deliveries, messages=messages
    ) as app:
        app.state.mint = mint
        yield app


def client_of(app, token: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify.test")
    if token:
        client.cookies.set("baocao_session", token)
    return client


def operator(app, province: str = READ) -> str:
    return app.state.mint.token("province_operator", province)


async def stored(app, delivery_id: uuid.UUID):
    async with app.state.runtime.sessionmaker() as db:
        return (await db.execute(select(orm.deliveries).where(orm.deliveries.c.id == delivery_id))).one()


def row_id(d: dict) -> str:
    return f"thong-bao-{d['id']}"


async def test_the_operator_sees_the_provinces_deliveries_counted_with_a_failed_ones_reason(notify):
    async with client_of(notify, operator(notify)) as client:
        home = await client.get("/")
        answer = await client.get("/thong-bao")  # an operator's own province without asking
    assert home.status_code == 303 and home.headers["location"] == "/thong-bao"
    assert answer.status_code == 200, answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    page = Page.of(answer.text)
    assert page.text("so-luong") == "… Đang chờ 1 ✓ Đã gửi 2 ✗ Thất bại 1"
    assert page.text(row_id(OVERDUE)) == (
        "18/06/2019 08:00 Quá hạn Sở Giáo dục Thử (GD) [Quá hạn] Sở Giáo dục Thử chưa gửi báo cáo tháng 06/2019 "
        f"Webhook tới https://hooks.example.vn/gd ✗ Thất bại Lý do: {WEBHOOK_ERROR} Gửi lại 6"
    )
    assert page.text(row_id(REMINDER)) == (
        "14/06/2019 08:00 Nhắc hạn Sở Y tế Thử (YT) [Nhắc hạn] Báo cáo tháng 06/2019 của Sở Y tế Thử: hạn 00:00 "
        "ngày 16/06/2019 Email tới yte@example.vn ✓ Đã gửi lúc 14/06/2019 08:00 1"
    )
    assert page.text(row_id(DIGEST)) == (
        "16/06/2019 09:00 Tổng hợp chưa nộp Cả tỉnh [Tổng hợp] 1 đơn vị chưa gửi báo cáo tháng 06/2019 "
        f"Hộp thư tới {OPERATOR} … Đang chờ Lần thử trước lỗi: OperationalError: the inbox was busy 2"
    )
    # Newest first; another province's delivery is not there; a subject with a tag is text.
    ids = [e["id"] for e in page.all("tr") if e.get("id", "").startswith("thong-bao-")]
    assert ids == [row_id(d) for d in (OVERDUE, DIGEST, REMINDER, MAY_NUDGE)]
    assert "ca@example.vn" not in answer.text
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text
    assert page.text("danh-sach").startswith("Hiển thị 1–4 trong 4 thông báo, mới nhất trước")
    # Only the failed one has a resend form, carrying the way back to this list.
    forms = page.all("form", method="post")
    assert [f["action"] for f in forms if "gui-lai" in f["action"]] == [f"/thong-bao/{OVERDUE['id']}/gui-lai"]
    assert page.one("input", name="back")["value"] == f"/thong-bao?province={READ}"


async def test_a_published_reports_deliveries_name_their_recipient_and_the_pdf_they_carried(notify):
    sent = {"cause_type": "vn.baocao.report.published.v1", "subject": "[Đã gửi] Báo cáo tháng 06/2019 (số 3/BC)",
            "created_at": at("2019-06-26T10:00:00+07:00"), "document_filename": "3-BC-BCDNQ-2019-06.pdf"}  # fmt: skip
    mailed = delivery(PUBLISHED, unit="STP", recipient="vanthu@stp.test", recipient_label="Sở Tư pháp", **sent)
    linked = delivery(PUBLISHED, channel="inbox", recipient="national", recipient_label="Văn phòng Thường trực", **sent)
    await insert(notify, orm.deliveries, [mailed, linked])
    async with client_of(notify, operator(notify, PUBLISHED)) as client:
        listed = Page.of((await client.get(f"/thong-bao?province={PUBLISHED}")).text)
        detail = Page.of((await client.get(f"/thong-bao/{mailed['id']}")).text)
    assert "Email tới Sở Tư pháp, vanthu@stp.test Tệp đính kèm: 3-BC-BCDNQ-2019-06.pdf" in listed.text(row_id(mailed))
    assert "Hộp thư tới Văn phòng Thường trực, national Liên kết tới 3-BC-BCDNQ-2019-06.pdf" in listed.text(
        row_id(linked)
    )
    assert "Người nhận Sở Tư pháp, vanthu@stp.test Tệp đính kèm 3-BC-BCDNQ-2019-06.pdf" in detail.text("thong-tin-gui")
    async with client_of(notify) as client:
        headers = notify.state.mint.headers("province_operator", PUBLISHED)
        api = await client.get("/v1/deliveries", params={"province": PUBLISHED}, headers=headers)
    assert api.status_code == 200, api.text
    assert {(d["recipient_label"], d["document_filename"]) for d in api.json()} == {
        ("Sở Tư pháp", "3-BC-BCDNQ-2019-06.pdf"),
        ("Văn phòng Thường trực", "3-BC-BCDNQ-2019-06.pdf"),
    }


async def test_filters_by_period_status_channel_and_unit(notify):
    async def shown(**params) -> tuple[list[str], str]:
        async with client_of(notify, operator(notify)) as client:
            page = Page.of((await client.get("/thong-bao", params={"province": READ, **params})).text)
        ids = [e["id"] for e in page.all("tr") if e.get("id", "").startswith("thong-bao-")]
        return ids, page.text("so-luong")

    assert await shown(status="failed") == ([row_id(OVERDUE)], "… Đang chờ 1 ✓ Đã gửi 2 ✗ Thất bại 1")
    assert (await shown(period="2019-05"))[0] == [row_id(MAY_NUDGE)]
    assert await shown(channel="inbox") == ([row_id(DIGEST)], "… Đang chờ 1 ✓ Đã gửi 0 ✗ Thất bại 0")
    assert (await shown(unit="YT"))[0] == [row_id(REMINDER), row_id(MAY_NUDGE)]
    assert (await shown(unit="YT", period="2019-06", status="sent"))[0] == [row_id(REMINDER)]
    assert (await shown(unit="YT", status="failed"))[0] == []
    assert (await shown(status="bogus"))[0] == [row_id(d) for d in (OVERDUE, DIGEST, REMINDER, MAY_NUDGE)]

    async with client_of(notify, operator(notify)) as client:
        answer = await client.get("/thong-bao", params={"province": READ, "unit": "YT", "status": "failed"})
    page = Page.of(answer.text)
    assert "Không có thông báo nào khớp bộ lọc." in page.text("danh-sach")
    # The filter form offers the periods and units of the province's deliveries, the chosen ones selected.
    assert [o.get("value") for o in page.all("option") if o.get("value", "").startswith("2019")] == [
        "2019-06",
        "2019-05",
    ]
    assert {"value": "YT", "selected": ""} in page.all("option") and {"value": "failed", "selected": ""} in page.all(
        "option"
    )
    # Each count links to the list of that status, the other filters kept.
    links = [a["href"] for a in page.all("a") if "status=" in a.get("href", "")]
    assert f"/thong-bao?province={READ}&status=sent&unit=YT" in links


async def test_who_may_see_the_deliveries(notify):
    mint = notify.state.mint
    detail = f"/thong-bao/{OVERDUE['id']}"
    async with client_of(notify, operator(notify, "01")) as client:
        foreign, foreign_detail = await client.get(f"/thong-bao?province={READ}"), await client.get(detail)
    assert foreign.status_code == 403 and foreign_detail.status_code == 403
    assert "Không có quyền xem trang này" in foreign.text and "hooks.example.vn" not in foreign.text

    async with client_of(notify, mint.token("reporter", READ, "YT")) as client:
        home = await client.get("/")
        reporter = [await client.get(url) for url in ("/thong-bao", f"/thong-bao?province={READ}", detail)]
    assert home.headers["location"] == "/hop-thu"
    assert [r.status_code for r in reporter] == [403, 403, 403]
    assert "chỉ dành cho cơ quan thường trực" in reporter[0].text and 'href="/hop-thu"' in reporter[0].text

    async with client_of(notify, mint.token("national_operator")) as client:
        home, picker = await client.get("/"), await client.get("/thong-bao")
        national = await client.get(f"/thong-bao?province={READ}")
    assert home.headers["location"] == "/thong-bao"
    choices = [a["href"] for a in Page.of(picker.text).all("a")]
    assert f"/thong-bao?province={READ}" in choices and "/thong-bao?province=30" in choices
    assert "Tỉnh Thử Thông Báo" in picker.text
    assert national.status_code == 200 and WEBHOOK_ERROR.replace("'", "&#39;") in national.text
    assert "gui-lai" not in national.text and "Tài khoản này chỉ xem thông báo." in national.text

    for token in (None, mint.token("province_operator", READ, ttl_s=-120)):
        async with client_of(notify, token) as client:
            for url in ("/", "/thong-bao", detail, "/hop-thu"):
                signed_out = await client.get(url)
                assert signed_out.status_code == 303 and signed_out.headers["location"] == f"{INTAKE}/dang-nhap"

    async with client_of(notify, operator(notify)) as client:
        missing = await client.get(f"/thong-bao/{uuid.uuid4()}")
        garbled = await client.get("/thong-bao/not-an-id")
    async with client_of(notify, mint.token("admin")) as client:
        bad_province = await client.get("/thong-bao?province=9")
    assert [missing.status_code, garbled.status_code, bad_province.status_code] == [404, 404, 404]
    assert "Không tìm thấy thông báo" in missing.text


async def test_the_detail_shows_the_message_as_the_recipient_got_it(notify):
    async with client_of(notify, operator(notify)) as client:
        answer = await client.get(f"/thong-bao/{OVERDUE['id']}")
    assert answer.status_code == 200
    page = Page.of(answer.text)
    assert "Kính gửi Sở Giáo dục Thử,\n\nĐơn vị chưa gửi báo cáo tháng 06/2019, đã quá hạn 2 ngày." in answer.text
    assert page.text("ly-do") == f"Lý do gửi thất bại {WEBHOOK_ERROR}"
    assert page.text("tinh-trang") == "✗ Thất bại Quá hạn · Webhook tới https://hooks.example.vn/gd"
    assert "Số lần thử 6 Gửi lúc chưa gửi" in page.text("thong-tin-gui")
    assert page.one("form", method="post", action=f"/thong-bao/{OVERDUE['id']}/gui-lai")


async def test_sending_a_failed_delivery_again_from_the_page(notify):
    failed = delivery(
        RESEND, unit="X1", recipient="x1@example.vn", status="failed", attempts=6,
        last_error="SMTPRecipientsRefused: mailbox full", created_at=at("2019-06-18T08:00:00+07:00"),
    )  # fmt: skip
    sent = delivery(RESEND, unit="X2", recipient="x2@example.vn", created_at=at("2019-06-17T08:00:00+07:00"))
    await insert(notify, orm.deliveries, [failed, sent])
    back = f"/thong-bao?province={RESEND}&status=failed"
    action = f"/thong-bao/{failed['id']}/gui-lai"
    async with client_of(notify, operator(notify, RESEND)) as client:
        listing = await client.get(back)
        refused = await client.post(action, data={"back": back})
        assert refused.status_code == 403 and "mã bảo vệ" in refused.text
        assert (await stored(notify, failed["id"])).status == "failed"

        before = datetime.now(UTC)
        done = await client.post(action, data={"csrf_token": csrf_of(listing), "back": back})
        assert done.status_code == 303 and done.headers["location"] == back
        after = await client.get(f"/thong-bao?province={RESEND}")
        again = await client.post(action, data={"csrf_token": csrf_of(listing), "back": back})
        elsewhere = await client.post(action, data={"csrf_token": csrf_of(listing), "back": "https://evil.example/"})
        of_sent = await client.post(f"/thong-bao/{sent['id']}/gui-lai", data={"csrf_token": csrf_of(listing)})
        told = await client.get(of_sent.headers["location"])
    row = await stored(notify, failed["id"])
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, None)
    assert before - timedelta(seconds=1) <= row.next_attempt_at <= datetime.now(UTC)
    page = Page.of(after.text)
    assert page.all("p", **{"class": "flash"})
    assert (
        "Đã đưa thông báo “[Nhắc hạn] Báo cáo tháng 06/2019” gửi tới x1@example.vn trở lại hàng chờ gửi" in after.text
    )
    assert "… Đang chờ" in page.text(row_id(failed)) and "Gửi lại" not in page.text(row_id(failed))
    assert page.text("so-luong") == "… Đang chờ 1 ✓ Đã gửi 1 ✗ Thất bại 0"
    # Sending again what is already waiting, or was sent, is refused in plain words.
    assert again.status_code == 303 and elsewhere.headers["location"] == f"/thong-bao/{failed['id']}"
    assert of_sent.headers["location"] == f"/thong-bao/{sent['id']}"
    assert "Không gửi lại: thông báo này đã được gửi thành công." in told.text
    assert (await stored(notify, sent["id"])).status == "sent"

    async with client_of(notify, notify.state.mint.token("national_operator")) as client:
        page = await client.get(f"/thong-bao?province={RESEND}")
        national = await client.post(f"/thong-bao/{sent['id']}/gui-lai", data={"csrf_token": csrf_of(page)})
    assert national.status_code == 403 and "Chỉ cơ quan thường trực của tỉnh" in national.text


async def test_a_long_list_comes_in_pages_of_the_newest_first(notify):
    start = at("2019-06-01T08:00:00+07:00")
    rows = [
        delivery(LONG, unit=f"U{i:02d}", recipient=f"u{i}@example.vn", created_at=start + timedelta(hours=i))
        for i in range(55)
    ]
    await insert(notify, orm.deliveries, rows)
    async with client_of(notify, notify.state.mint.token("admin")) as client:
        first = Page.of((await client.get(f"/thong-bao?province={LONG}")).text)
        second = Page.of((await client.get(f"/thong-bao?province={LONG}&page=2")).text)
    assert first.text("danh-sach").startswith("Hiển thị 1–50 trong 55 thông báo, mới nhất trước")
    assert second.text("danh-sach").startswith("Hiển thị 51–55 trong 55 thông báo")
    assert [a["href"] for a in first.all("a", rel="next")] == [f"/thong-bao?province={LONG}&page=2"]
    assert [a["href"] for a in second.all("a", rel="prev")] == [f"/thong-bao?province={LONG}"]
    shown = [e["id"] for e in second.all("tr") if e.get("id", "").startswith("thong-bao-")]
    assert shown == [row_id(r) for r in reversed(rows[:5])]
    assert first.text("tieu-de") == "Thông báo đã gửi · Tỉnh mã 63"  # a province not in the catalogue


async def test_the_inbox_shows_only_the_callers_messages_and_marks_them_read(notify):
    mint = notify.state.mint
    async with client_of(notify, mint.token("reporter", READ, "YT")) as client:
        inbox = await client.get("/hop-thu")
        page = Page.of(inbox.text)
        items = page.all("li")
        assert [(i["id"], i["class"]) for i in items if i.get("id", "").startswith("thu-")] == [
            (f"thu-{NEW_UNREAD['id']}", "unread"),
            (f"thu-{OLD_READ['id']}", "read"),
        ]
        assert page.text("chua-doc") == "Bạn có 1 thư chưa đọc."
        assert "Thư của Sở Giáo dục Thử" not in inbox.text
        assert page.text(f"thu-{NEW_UNREAD['id']}").startswith("Chưa đọc [Quá hạn] Báo cáo tháng 06/2019 Nhận lúc")
        assert page.text(f"thu-{OLD_READ['id']}").startswith(
            "[Nhắc hạn] Báo cáo tháng 05/2019 Nhận lúc 14/05/2019 08:00 · đã đọc lúc 14/05/2019 09:00"
        )
        token = csrf_of(inbox)
        refused = await client.post(f"/hop-thu/{NEW_UNREAD['id']}/da-doc")
        foreign = await client.post(f"/hop-thu/{NOT_MINE['id']}/da-doc", data={"csrf_token": token})
        marked = await client.post(f"/hop-thu/{NEW_UNREAD['id']}/da-doc", data={"csrf_token": token})
        after = await client.get(marked.headers["location"])
    assert refused.status_code == 403
    assert foreign.status_code == 404 and "Hộp thư của bạn không có thư này." in foreign.text
    assert marked.status_code == 303 and marked.headers["location"] == "/hop-thu"
    page = Page.of(after.text)
    assert "Đã đánh dấu thư là đã đọc." in after.text and page.text("chua-doc") == "Bạn đã đọc hết thư."
    assert {i["class"] for i in page.all("li") if i.get("id", "").startswith("thu-")} == {"read"}

    async with client_of(notify, mint.token("reporter", READ, "GD")) as client:
        other = await client.get("/hop-thu")
        assert Page.of(other.text).text("chua-doc") == "Bạn có 1 thư chưa đọc."
        assert "Thư của Sở Giáo dục Thử" in other.text
        all_read = await client.post("/hop-thu/da-doc-het", data={"csrf_token": csrf_of(other)})
        now_empty = await client.get("/hop-thu")
    assert all_read.status_code == 303 and "Đã đánh dấu 1 thư là đã đọc." in now_empty.text
    assert Page.of(now_empty.text).text("chua-doc") == "Bạn đã đọc hết thư."


async def test_the_api_sends_again_for_the_provinces_operators_and_admins_only(notify):
    mint = notify.state.mint
    failed = [
        delivery(RESEND, unit="A1", recipient=f"api{i}@example.vn", status="failed", attempts=6, last_error="boom")
        for i in range(2)
    ]
    await insert(notify, orm.deliveries, failed)
    url = f"/v1/deliveries/{failed[0]['id']}/resend"
    async with client_of(notify) as client:
        refused = {
            who: (await client.post(url, headers=mint.headers(*who))).status_code
            for who in (("reporter", RESEND, "A1"), ("national_operator",), ("province_operator", READ))
        }
        anonymous = await client.post(url)
        done = await client.post(url, headers=mint.headers("province_operator", RESEND))
        twice = await client.post(url, headers=mint.headers("province_operator", RESEND))
        by_admin = await client.post(f"/v1/deliveries/{failed[1]['id']}/resend", headers=mint.headers("admin"))
        missing = await client.post(f"/v1/deliveries/{uuid.uuid4()}/resend", headers=mint.headers("admin"))
        listed = await client.get(
            "/v1/deliveries", params={"province": RESEND, "unit": "A1"}, headers=mint.headers("admin")
        )
    assert refused == {("reporter", RESEND, "A1"): 403, ("national_operator",): 403, ("province_operator", READ): 403}
    assert anonymous.status_code == 401
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["attempts"], done.json()["last_error"]) == ("pending", 0, None)
    assert twice.status_code == 409
    assert twice.json()["error"]["message"] == (
        "This delivery is pending, not failed: only a failed delivery can be sent again."
    )
    assert by_admin.status_code == 200 and missing.status_code == 404
    assert sorted(d["status"] for d in listed.json()) == ["pending", "pending"]


async def test_the_api_marks_only_the_callers_own_message_read(notify):
    mint = notify.state.mint
    # The mint's national operator is the account "test-national_operator".
    mine, theirs = (
        message(who, "[Đã gửi] Báo cáo", "2019-06-20T08:00:00+07:00") for who in ("test-national_operator", "other")
    )
    await insert(notify, orm.inbox_messages, [mine, theirs])
    headers = mint.headers("national_operator")
    async with client_of(notify) as client:
        foreign = await client.post(f"/v1/inbox/{theirs['id']}/read", headers=headers)
        read = await client.post(f"/v1/inbox/{mine['id']}/read", headers=headers)
        again = await client.post(f"/v1/inbox/{mine['id']}/read", headers=headers)
        listed = await client.get("/v1/inbox", headers=headers)
        reporter = await client.post(f"/v1/inbox/{mine['id']}/read", headers=mint.headers("reporter", READ, "YT"))
    assert foreign.status_code == 404 and reporter.status_code == 404
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert again.json()["read_at"] == read.json()["read_at"]  # the first reading time stays
    assert [m["id"] for m in listed.json()] == [str(mine["id"])]
