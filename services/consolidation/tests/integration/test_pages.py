"""The consolidated report's pages over HTTP, on real Kafka and PostgreSQL (no browser).

Two provinces on plans of their own: Hải Dương (30) with two units, and a test province with two plans
and nothing published. Catalogue and submissions arrive on the real topics; the clock reads 18 June 2019.
The operator reads the report page, approves and publishes it through the page's forms, and the national
office then sees it in the roll-up.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.catalog import (
    PLAN_UPSERTED,
    PROVINCE_UPSERTED,
    REGIME_UPSERTED,
    UNIT_UPSERTED,
    IndicatorV1,
    NationalMappingV1,
    ProvinceV1,
    RegimeV1,
    UnitV1,
)
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import REPORTS
from baocao_testing.html import Page, csrf_of
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from consolidation.adapters.report_text import vn_number
from services.consolidation.tests.kit import HAI_DUONG, running

pytestmark = pytest.mark.integration
INTAKE = "http://intake.test"
PERIOD = "2019-06"
AT = datetime(2019, 6, 12, 3, 0, tzinfo=UTC)
TAG = uuid.uuid4().hex[:6]
# The broker is shared with other tests: unit codes, plan ids and one indicator of our own make totals exact.
MARK = f"x_{TAG}"
UNITS = [f"P{TAG.upper()}A", f"P{TAG.upper()}B"]
# A code no other test loads: the e2e rebuilds replay the session's whole broker, this province too.
OTHER = ProvinceV1(code="83", name=f"Tỉnh Thử {TAG}", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
SCRIPT = "Tổ chức 3 hội nghị <script>alert(1)</script>"


def plan_of(province: str, units: list[str], *, marked: bool = False):
    base = HAI_DUONG.plans[0]
    template = base.template
    if marked:
        first = template.tasks[0]
        extra = IndicatorV1(code=MARK, label=f"Chỉ tiêu thử {TAG}", unit="lượt")
        tasks = [first.model_copy(update={"indicators": [*first.indicators, extra]}), *template.tasks[1:]]
        template = template.model_copy(update={"tasks": tasks})
    national = NationalMappingV1(regime=REGIME_ID)  # identity: the regime's template is the marked one
    update = {"id": f"p{uuid.uuid4().hex[:8]}", "province": province, "units": units, "template": template,
              "national": national}  # fmt: skip
    return base.model_copy(update=update)


REGIME_ID = f"thu-{TAG}"
PLAN = plan_of("30", UNITS, marked=True)
REGIME = RegimeV1(
    id=REGIME_ID, number=f"{TAG}/HD", title=f"Chế độ thử {TAG}", issued_by="Văn phòng Thường trực",
    template=PLAN.template,
)  # fmt: skip
OTHER_PLANS = [plan_of(OTHER.code, ["Q1"]), plan_of(OTHER.code, ["Q1"])]
FIGURES = {UNITS[0]: {"t1_sessions": 3, MARK: 11}, UNITS[1]: {"t1_sessions": 4, MARK: 20}}


def submission(plan, unit: str, values: dict[str, int], text: str = "") -> SubmissionV1:
    return SubmissionV1(
        submission_id=uuid.uuid4(),
        province=plan.province,
        unit=unit,
        plan_id=plan.id,
        period=PERIOD,
        version=1,
        values=values,
        narratives={"T1": text} if text else {},
        received_at=AT,
        first_received_at=AT,
    )


@pytest.fixture(scope="module")
async def app(postgres, kafka):
    start = datetime(2019, 6, 18, tzinfo=UTC)
    async with running(postgres, kafka, clock_start=start, service_urls={"intake": INTAKE}) as (app, mint):
        await _feed(kafka.bootstrap)
        app.state.mint = mint
        async with client_of(app) as client:
            for plan, units in ((PLAN, 2), (OTHER_PLANS[0], 1), (OTHER_PLANS[1], 0)):
                await _arrived(client, mint, plan, units)
        yield app


async def _feed(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:

        async def publish(spec, data) -> None:
            event, key = make_event(spec, data, source="/baocao/test", province=getattr(data, "province", None))
            await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

        await publish(REGIME_UPSERTED, REGIME)
        for place, units in ((HAI_DUONG.province, UNITS), (OTHER, ["Q1"])):
            await publish(PROVINCE_UPSERTED, place)
            for code in units:
                await publish(
                    UNIT_UPSERTED, UnitV1(province=place.code, code=code, name=f"Đơn vị {code}", kind="member")
                )
        for plan in (PLAN, *OTHER_PLANS):
            await publish(PLAN_UPSERTED, plan)
        for unit, values in FIGURES.items():
            await publish(SUBMISSION_RECEIVED, submission(PLAN, unit, values, SCRIPT if unit == UNITS[0] else ""))
        await publish(SUBMISSION_RECEIVED, submission(OTHER_PLANS[0], "Q1", {"t1_sessions": 1, MARK: 1000}))
    finally:
        await producer.stop()


async def _arrived(client: httpx.AsyncClient, mint: TokenMint, plan, units: int) -> None:
    headers = mint.headers("province_operator", plan.province)

    async def ready():
        answer = await client.get(f"/v1/reports/{plan.province}/{PERIOD}", params={"plan_id": plan.id}, headers=headers)
        return answer.status_code == 200 and len(answer.json()["units"]) == units

    await wait_until(
        ready, timeout=90, what=f"the reports of plan {plan.id}"
    )  # the consumer reads the shared broker from its start


def client_of(app, role: str | None = None, province: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")
    if role:
        client.cookies.set("baocao_session", app.state.mint.token(role, province))
    return client


def visible(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


REPORT = f"/tong-hop/30/{PERIOD}?plan_id={PLAN.id}"


async def post_form(client: httpx.AsyncClient, form_id: str) -> httpx.Response:
    """Post the page's form `form_id` as a browser would, then follow the 303 back to the page."""
    page = await client.get(REPORT)
    form = Page.of(page.text).one("form", id=form_id)
    answer = await client.post(form["action"], data={"csrf_token": csrf_of(page), "plan_id": PLAN.id})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == REPORT
    return await client.get(answer.headers["location"])


async def test_the_operator_reads_approves_and_publishes_and_the_national_office_sees_it(app, kafka):
    since = await end_offsets(kafka.bootstrap, REPORTS)
    async with client_of(app, "province_operator", "30") as operator:
        page = await operator.get(REPORT)
        assert page.status_code == 200, page.text
        text = Page.of(page.text)
        assert text.text("trang-thai") == "Dự thảo"
        assert f"Chỉ tiêu thử {TAG} (lượt) {vn_number(31)}" in visible(page.text)  # its figures table
        assert f"Số hội nghị, buổi quán triệt: {vn_number(7)} buổi" in text.text("van-ban-t1")  # the draft
        assert text.all("form", id="sua-t1")  # the office's editor
        assert all(f"Đơn vị {u}" in text.text("so-lieu") for u in UNITS)
        assert text.all("form", id="duyet") and not text.all("form", id="gui")
        async with client_of(app, "national_operator") as national:
            early = await national.get(REPORT)
            assert early.status_code == 403 and "chưa gửi báo cáo kỳ 2019-06" in early.text

        approved = await post_form(operator, "duyet")
        assert "Đã duyệt báo cáo." in Page.of(approved.text).text("noi-dung")
        assert Page.of(approved.text).text("trang-thai") == "Đã duyệt"
        again = await operator.post(
            f"/tong-hop/30/{PERIOD}/duyet", data={"csrf_token": csrf_of(approved), "plan_id": PLAN.id}
        )
        assert "Chưa duyệt được: báo cáo đang ở trạng thái “đã duyệt”" in visible(
            (await operator.get(again.headers["location"])).text
        )
        published = await post_form(operator, "gui")
        shown = Page.of(published.text)
        assert "Đã cấp số, ký số và gửi báo cáo lên Văn phòng Thường trực." in shown.text("noi-dung")
        assert shown.text("trang-thai") == "Đã gửi lên" and not shown.all("form", id="gui")

    async def on_topic():
        events = [CloudEvent.from_bytes(r.value) for r in await read_topic(kafka.bootstrap, REPORTS, since=since)]
        return [e for e in events if e.type.endswith("report.published.v1") and e.data.get("plan_id") == PLAN.id]

    [event] = await wait_until(on_topic, timeout=20, what="report.published of our plan on baocao.reports")
    assert event.data["totals"][MARK] == 31

    async with client_of(app, "national_operator") as national:
        assert (await national.get("/")).headers["location"] == f"/quoc-gia/{PERIOD}"
        roll_up = await national.get(f"/quoc-gia/{PERIOD}")
        assert roll_up.status_code == 200
        board = Page.of(roll_up.text)
        ours = board.text(f"tinh-30-{PLAN.id}")
        assert "Đã gửi" in ours and re.search(r"18/06/2019 \d\d:\d\d", ours)
        assert board.one("a", href=REPORT)
        # One table per regime, labelled by the regime's template; the other province did not publish.
        assert board.text(f"che-do-{REGIME_ID}") == REGIME.title
        assert board.text(f"tong-{REGIME_ID}-{MARK}") == f"Chỉ tiêu thử {TAG} 31 lượt"
        assert board.text(f"tong-{REGIME_ID}-t1_sessions") == "Số hội nghị, buổi quán triệt 7 buổi"
        assert board.text(f"chua-gui-{OTHER.code}-{OTHER_PLANS[0].id}").startswith(OTHER.name)
        assert not board.all("li", id=f"chua-gui-30-{PLAN.id}")
        assert [a["href"] for a in board.all("a") if a["href"].startswith("/quoc-gia/")][:6] == [
            f"/quoc-gia/2019-{m:02d}" for m in range(6, 0, -1)
        ]
        assert (await national.get(REPORT)).status_code == 200, "published: the national office reads it"


async def test_the_html_route_shows_the_same_totals_as_the_json(app):
    headers = app.state.mint.headers("province_operator", "30")
    async with client_of(app) as client:
        body = (await client.get(f"/v1/reports/30/{PERIOD}", params={"plan_id": PLAN.id}, headers=headers)).json()
        page = await client.get(f"/v1/reports/30/{PERIOD}.html", params={"plan_id": PLAN.id}, headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = visible(page.text)
    for task in body["tasks"]:
        for i in task["indicators"]:
            assert f"– {i['label']}: {vn_number(i['total'])}" in text
    assert body["totals"][MARK] == 31 and '<form method="post" action="/tong-hop' not in page.text


async def test_a_script_in_a_narrative_is_shown_as_text_and_pages_send_security_headers(app):
    async with client_of(app, "province_operator", "30") as operator:
        page = await operator.get(REPORT)
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"


async def test_a_form_without_its_csrf_token_is_refused(app):
    async with client_of(app, "province_operator", "30") as operator:
        await operator.get(REPORT)  # the CSRF cookie is set, but the post does not carry the field
        answer = await operator.post(f"/tong-hop/30/{PERIOD}/duyet", data={"plan_id": PLAN.id})
    assert answer.status_code == 403 and "Không thể gửi biểu mẫu" in answer.text


async def test_who_lands_where(app):
    async with client_of(app) as anonymous:
        assert (await anonymous.get(REPORT)).headers["location"] == f"{INTAKE}/dang-nhap"
    async with client_of(app, "province_operator", "30") as operator:
        assert (await operator.get("/")).headers["location"] == f"/tong-hop/30/{PERIOD}"
        elsewhere = await operator.get(f"/tong-hop/{OTHER.code}/{PERIOD}")
        assert elsewhere.status_code == 403 and "Không có quyền xem trang này" in elsewhere.text
        assert (await operator.get(f"/quoc-gia/{PERIOD}")).status_code == 403
    async with client_of(app) as reporter:
        reporter.cookies.set("baocao_session", app.state.mint.token("reporter", "30", UNITS[0]))
        home = await reporter.get("/")
        assert "Trang này dành cho Văn phòng/Ban chỉ đạo" in home.text and f'href="{INTAKE}/"' in home.text
    async with client_of(app, "province_operator", OTHER.code) as other:
        picker = await other.get(f"/tong-hop/{OTHER.code}/{PERIOD}")
        links = [a["href"] for a in Page.of(picker.text).all("a") if a["href"].startswith("/tong-hop/")]
        # Earlier runs on the same broker may have left plans in this province too.
        assert {f"/tong-hop/{OTHER.code}/{PERIOD}?plan_id={p.id}" for p in OTHER_PLANS} <= set(links)
