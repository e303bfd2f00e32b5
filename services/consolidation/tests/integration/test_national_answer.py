"""The national office's answer to a province's published report, on real PostgreSQL and Kafka: accept or return
(issue 18 §2). Returned, the report is a draft again saying why; published again, it takes the next number
and replaces the earlier document, which stays in the register; accepted, it is final."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from docx import Document
from sqlalchemy import text

from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.html import Page, csrf_of
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.handlers import projection
from services.consolidation.tests.kit import HAI_DUONG, province_for_tests, running, seed

pytestmark = pytest.mark.integration
PROVINCE, OTHER = "62", "63"  # no other test's provinces: the app reads the shared broker
PERIOD = "2019-06"
START = datetime(2019, 6, 20, 3, tzinfo=UTC)
REASON = "Thiếu số liệu của Ban Tuyên giáo; đề nghị bổ sung"


def a_plan():
    return HAI_DUONG.plans[0].model_copy(
        update={"id": f"na{uuid.uuid4().hex[:8]}", "province": PROVINCE, "units": ["CA", "BTG"]}
    )


async def reported(app, plan, unit: str, version: int, sessions: int) -> None:
    """A unit's report (as intake announced it), straight into the projection."""
    async with app.state.runtime.sessionmaker() as db, ConsolidationUnitOfWork(db) as uow:
        await projection.submission_recorded(
            uow,
            SubmissionV1(
                submission_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{plan.id}/{unit}"), province=PROVINCE, unit=unit,
                plan_id=plan.id, period=PERIOD, version=version, values={"t1_sessions": sessions}, narratives={},
                received_at=datetime(2019, 6, 12, version, tzinfo=UTC),
                first_received_at=datetime(2019, 6, 12, tzinfo=UTC),
            ),
        )  # fmt: skip


@pytest.fixture
async def world(postgres, kafka):
    plan = a_plan()
    async with running(postgres, kafka, clock_start=START, service_urls={"intake": "http://intake.test"}) as (
        app,
        mint,
    ):
        await seed(app, [province_for_tests(c) for c in (PROVINCE, OTHER)], units=["CA", "BTG"], plans=[plan])
        await reported(app, plan, "CA", 1, 2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test") as http:
            yield app, mint, plan, http


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


async def test_returned_published_again_under_a_new_number_replacing_the_earlier_then_accepted_for_good(world):
    app, mint, plan, http = world
    report, q = f"/v1/reports/{PROVINCE}/{PERIOD}", {"plan_id": plan.id}
    operator, national = mint.headers("province_operator", PROVINCE), mint.headers("national_operator")
    reason = {"reason": REASON}

    async def act(action: str, who: dict[str, str], **kwargs) -> httpx.Response:
        return await http.post(f"{report}/{action}", params=q, headers=who, **kwargs)

    # Not published yet: 409, on a draft and on an approved report.
    for status in ("draft", "approved"):
        for action, body in (("accept", {}), ("return", {"json": reason})):
            refused = await act(action, national, **body)
            assert refused.status_code == 409 and refused.json()["error"]["details"] == {"status": status}
        if status == "draft":
            assert (await act("approve", operator)).status_code == 200
    first = await act("publish", operator)
    assert first.status_code == 200 and first.json()["number"] == "1/BC-BCĐNQ" and first.json()["replaces"] is None
    # Only the national office (and admins) answer: a reporter, the province's own operator and another's, 403.
    for who in (mint.headers("reporter", PROVINCE, "CA"), operator, mint.headers("province_operator", OTHER)):
        for action, body in (("accept", {}), ("return", {"json": reason})):
            assert (await act(action, who, **body)).status_code == 403
    assert (await act("return", national, json={"reason": ""})).status_code == 422

    returned = await act("return", national, json=reason)
    assert returned.status_code == 200, returned.text
    body = returned.json()
    assert body["status"] == "draft" and body["status_note"] == f"Trả lại: {REASON}" and body["number"] is None
    assert (body["returned"]["reason"], body["returned"]["by"]) == (REASON, "test-national_operator")
    assert (await http.get(report, params=q, headers=national)).status_code == 403, "a draft again"
    assert (await http.get(report, params=q, headers=operator)).json()["returned"]["reason"] == REASON
    http.cookies.set("baocao_session", mint.token("province_operator", PROVINCE))
    page = Page.of((await http.get(f"/tong-hop/{PROVINCE}/{PERIOD}", params=q)).text)
    assert page.text("trang-thai") == "Bị trả lại" and f"Trả lại: {REASON}" in page.text("tra-lai")
    assert page.all("form", id="sua-t1") and page.all("form", id="duyet"), "the office edits and approves again"

    # A unit amends (intake takes it: the period is open again), the office approves and publishes again.
    await reported(app, plan, "CA", 2, 5)
    assert (await act("approve", operator)).status_code == 200
    again = await act("publish", operator)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["number"] == "2/BC-BCĐNQ" and body["replaces"] == "1/BC-BCĐNQ" and body["totals"]["t1_sessions"] == 5
    assert body["returned"] is None and body["status_note"] is None
    docx = await http.get(f"{report}.docx", params=q, headers=operator)
    line = "(Báo cáo này thay thế Báo cáo số 1/BC-BCĐNQ ngày 20 tháng 6 năm 2019)"
    assert line in docx_text(docx.content)
    for ref in [*first.json()["documents"], *body["documents"]]:  # both stay in the register
        found = await http.get(f"/v1/documents/{ref['sha256']}")
        assert found.status_code == 200 and found.json()["number"] in ("1/BC-BCĐNQ", "2/BC-BCĐNQ")
    page = Page.of((await http.get(f"/tong-hop/{PROVINCE}/{PERIOD}", params=q)).text)
    assert "Số 1/BC-BCĐNQ" in page.text("cac-van-ban-truoc") and "2/BC-BCĐNQ" not in page.text("cac-van-ban-truoc")
    assert line in page.text("thay-the")

    accepted = await act("accept", national)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["status"], body["accepted_by"], body["number"]) == ("accepted", "test-national_operator", "2/BC-BCĐNQ")
    # Final: no second answer, no reopen.
    for action, who, kwargs in (
        ("accept", national, {}), ("return", national, {"json": reason}),
        ("reopen", mint.headers("admin"), {"json": {"reason": "Mở lại để sửa"}}),
    ):  # fmt: skip
        refused = await act(action, who, **kwargs)
        assert refused.status_code == 409 and refused.json()["error"]["details"]["status"] == "accepted", action
    # The national office reads it, and the roll-up counts it.
    assert (await http.get(report, params=q, headers=national)).json()["status"] == "accepted"
    roll_up = (await http.get(f"/v1/national/{PERIOD}", headers=national)).json()
    [ours] = [p for p in roll_up["provinces"] if p["plan_id"] == plan.id]
    assert ours["status"] == "accepted" and not any(m["plan_id"] == plan.id for m in roll_up["not_reported"])
    assert (await http.get(f"{report}.pdf", params=q, headers=national)).content[:5] == b"%PDF-"

    audit = (await http.get("/v1/reports/audit", params={"province": PROVINCE}, headers=national)).json()["items"]
    steps = [(a["action"], a["actor"]) for a in reversed(audit)]
    assert steps == [
        ("report.approved", "test-province_operator-62"), ("report.published", "test-province_operator-62"),
        ("report.returned", "test-national_operator"), ("report.approved", "test-province_operator-62"),
        ("report.published", "test-province_operator-62"), ("report.accepted", "test-national_operator"),
    ]  # fmt: skip
    async with app.state.runtime.sessionmaker() as db:
        events = (
            await db.execute(text("SELECT event_type FROM outbox WHERE event_type LIKE '%report.%ed.v1' ORDER BY id"))
        ).scalars()
    answers = [e.split(".")[3] for e in events if e.split(".")[3] in ("returned", "accepted")]
    assert answers == ["returned", "accepted"]


async def test_the_national_office_answers_through_the_reports_page(world):
    _, mint, plan, http = world
    page_url, q = f"/tong-hop/{PROVINCE}/{PERIOD}", {"plan_id": plan.id}
    operator = mint.headers("province_operator", PROVINCE)
    for action in ("approve", "publish"):
        assert (await http.post(f"/v1/reports/{PROVINCE}/{PERIOD}/{action}", params=q, headers=operator)).is_success
    http.cookies.set("baocao_session", mint.token("national_operator"))
    page = await http.get(page_url, params=q)
    shown = Page.of(page.text)
    assert shown.all("form", id="tiep-nhan") and shown.all("form", id="tra-lai-form")
    assert shown.one("textarea", id="ly-do-tra-lai").get("required") is not None
    assert not shown.all("form", id="duyet") and not shown.all("form", id="sua-t1")

    blank = await http.post(
        f"{page_url}/tra-lai", data={"csrf_token": csrf_of(page), "plan_id": plan.id, "reason": " "}
    )
    assert blank.status_code == 422 and "Lý do trả lại cần" in Page.of(blank.text).text("loi-tra-lai")
    sent = await http.post(
        f"{page_url}/tra-lai", data={"csrf_token": csrf_of(page), "plan_id": plan.id, "reason": REASON}
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/quoc-gia/{PERIOD}"
    board = Page.of((await http.get(sent.headers["location"])).text)
    assert "Đã trả lại" in board.text(f"tinh-{PROVINCE}-{plan.id}")

    for action in ("approve", "publish"):
        assert (await http.post(f"/v1/reports/{PROVINCE}/{PERIOD}/{action}", params=q, headers=operator)).is_success
    page = await http.get(page_url, params=q)
    done = await http.post(f"{page_url}/tiep-nhan", data={"csrf_token": csrf_of(page), "plan_id": plan.id})
    assert done.status_code == 303
    done_page = await http.get(done.headers["location"])
    shown = Page.of(done_page.text)
    assert shown.text("trang-thai") == "Đã tiếp nhận"
    assert re.search(r"Tiếp nhận lúc</dt><dd>\d\d/06/2019 \d\d:\d\d \(test-national_operator\)", done_page.text)
    assert not shown.all("form", id="tiep-nhan") and not shown.all("form", id="tra-lai-form")
    board = Page.of((await http.get(f"/quoc-gia/{PERIOD}")).text)
    assert "Đã tiếp nhận" in board.text(f"tinh-{PROVINCE}-{plan.id}")

    http.cookies.set("baocao_session", mint.token("province_operator", PROVINCE))
    page = await http.get(page_url, params=q)
    refused = await http.post(f"{page_url}/tiep-nhan", data={"csrf_token": csrf_of(page), "plan_id": plan.id})
    assert refused.status_code == 403 and "Văn phòng Thường trực Ban Chỉ đạo của Chính phủ" in refused.text
