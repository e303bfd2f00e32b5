"""The staff office's compliance dashboard over HTTP, on real Kafka and PostgreSQL (no browser).

May and June 2019 of Hải Dương on a plan of its own: catalogue and submissions arrive on the real
topics, the scheduler ticks at chosen instants, and the app's clock reads 20 June 2019, 10:00.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import CloudEvent
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import DEADLINES
from baocao_testing.html import Page, csrf_of
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.integration.apps import INTAKE, pages_settings, utc
from services.deadlines.tests.integration.apps import publish as publish_by

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
XSS = UnitV1(province="30", code="TEST-XSS", name='<script>alert("x")</script> Ban Thử nghiệm', kind="other")
UNITS = ["CA", "BTG", "SNGV", "STP", XSS.code]
# Other tests publish plan 467 of province 30 on the same broker: this dashboard runs on its own plan id.
PLAN = HAI_DUONG.plans[0].model_copy(
    update={"units": UNITS, "first_period": "2019-05", "id": f"dash-{uuid.uuid4().hex[:8]}"}
)


def submission(unit: str, period: str, received: str, *, version: int = 1, first: str | None = None, sid=None):
    return SubmissionV1(
        submission_id=sid or uuid.uuid4(),
        province="30",
        unit=unit,
        plan_id=PLAN.id,
        period=period,
        version=version,
        values={"t1_sessions": version},
        narratives={},
        received_at=utc(received),
        first_received_at=utc(first or received),
    )


CA_JUNE = uuid.uuid4()
SUBMISSIONS = [
    submission("CA", "2019-05", "2019-05-14T09:00:00+07:00"),
    submission("CA", "2019-06", "2019-06-11T09:00:00+07:00", sid=CA_JUNE),
    submission("BTG", "2019-06", "2019-06-15T23:59:59+07:00"),
    submission("SNGV", "2019-06", "2019-06-17T09:30:00+07:00"),  # late by 1 day 9 h 30 min
    # An amendment after the deadline: flagged, still on time.
    submission("CA", "2019-06", "2019-06-18T10:00:00+07:00", version=2, first="2019-06-11T09:00:00+07:00", sid=CA_JUNE),
]


@pytest.fixture(scope="module")
async def deadlines(postgres, kafka):
    """One deadlines app for the module (its tests read, and nudge), its clock at 20 June 2019 10:00 in Hải Dương."""
    mint = TokenMint()
    app = create_app(await pages_settings(postgres, kafka), verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        await _feed(app, kafka.bootstrap)
        yield app, mint


async def _feed(app, bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()

    async def publish(spec, data, at: datetime) -> None:
        await publish_by(producer, spec, data, at)

    def stored(query, expected):
        async def check():
            async with app.state.runtime.sessionmaker() as session:
                return list((await session.execute(query)).scalars()) == expected

        return check

    try:
        at = utc("2019-05-01T00:00:00+07:00")
        await publish(PROVINCE_UPSERTED, HAI_DUONG.province, at)
        for unit in [*HAI_DUONG.units, XSS]:
            await publish(UNIT_UPSERTED, unit, at)
        await publish(PLAN_UPSERTED, PLAN, at)
        known = stored(select(orm.plans.c.id).where(orm.plans.c.id == PLAN.id), [PLAN.id])
        await wait_until(known, timeout=30, what="the plan to reach deadlines")
        u = orm.units.c
        units = stored(select(u.code).where(u.province == "30", u.code.in_(UNITS)).order_by(u.code), sorted(UNITS))
        await wait_until(units, timeout=30, what="the units to reach deadlines")  # before May opens
        for instant in ("2019-05-10T10:00:00+07:00", "2019-06-10T10:00:00+07:00"):
            await tick(app.state.runtime.sessionmaker, now=utc(instant))  # opens May, then June
        for s in SUBMISSIONS:
            await publish(SUBMISSION_AMENDED if s.version > 1 else SUBMISSION_RECEIVED, s, s.received_at)
        o = orm.obligations.c
        last = stored(select(o.last_version).where(o.plan_id == PLAN.id, o.period == "2019-06", o.unit == "CA"), [2])
        await wait_until(last, timeout=30, what="the submissions to reach deadlines")
        await tick(app.state.runtime.sessionmaker, now=utc("2019-06-20T10:00:00+07:00"))  # opens July
    finally:
        await producer.stop()


def client_of(app, token: str | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test")
    if token:
        client.cookies.set("baocao_session", token)
    return client


def dashboard(period: str | None = None) -> str:
    return f"/tien-do?province=30&plan_id={PLAN.id}" + (f"&period={period}" if period else "")


async def test_the_operator_sees_june_with_hand_computed_figures_and_each_units_status(deadlines):
    app, mint = deadlines
    async with client_of(app, mint.token("province_operator", "30")) as client:
        answer = await client.get(dashboard())  # no period: the newest one already due, June
        assert (await client.get("/")).headers["location"] == "/tien-do?province=30"
    assert answer.status_code == 200, answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    page = Page.of(answer.text)
    assert page.text("han-gui") == "Hạn gửi: trước 00:00 ngày 16/06/2019"
    assert page.text("ky-bao-cao") == "Kỳ báo cáo 2019-07 2019-06 2019-05 (đã khóa sổ)"  # May closed on 25 May
    current = [a["href"] for a in page.all("a", **{"aria-current": "page"})]
    assert current == ["/tien-do", dashboard("2019-06")]  # the navigation's "Tiến độ", and the period shown
    assert page.text("so-lieu") == (
        "Số đơn vị phải báo cáo 5 Đúng hạn 2 Muộn 1 Chưa nộp (quá hạn) 2 Chưa đến hạn 0 "
        "Tỷ lệ báo cáo 60,0% Tỷ lệ đúng hạn 40,0%"
    )
    assert page.text("don-vi-CA") == (
        "Công an tỉnh CA ✓ Đúng hạn sửa sau hạn 11/06/2019 09:00 ✓ 2019-05: Đúng hạn ✓ 2019-06: Đúng hạn"
    )
    assert page.text("don-vi-BTG") == (
        "Ban Tuyên giáo Tỉnh ủy BTG ✓ Đúng hạn 15/06/2019 23:59 ✗ 2019-05: Chưa nộp ✓ 2019-06: Đúng hạn"
    )
    assert page.text("don-vi-SNGV") == (
        "Sở Ngoại vụ SNGV ! Muộn 17/06/2019 09:30 muộn 1 ngày 9 giờ 30 phút ✗ 2019-05: Chưa nộp ! 2019-06: Muộn"
    )
    assert page.text("don-vi-STP") == "Sở Tư pháp STP ✗ Chưa nộp chưa có ✗ 2019-05: Chưa nộp ✗ 2019-06: Chưa nộp"
    # The unit named with a <script> tag is shown as text, never as markup.
    assert '<script>alert("x")</script> Ban Thử nghiệm TEST-XSS ✗ Chưa nộp' in page.text("don-vi-TEST-XSS")
    assert "<script>" not in answer.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text
    # The nudge form offers the units that have not submitted, checked.
    boxes = page.all("input", type="checkbox", name="units")
    assert [(b["value"], "checked" in b) for b in boxes] == [("STP", True), (XSS.code, True)]

    async with client_of(app, mint.token("province_operator", "30")) as client:
        may = await client.get(dashboard("2019-05"))
    may_page = Page.of(may.text)  # May closed on 25 May: its figures are final
    assert may_page.text("so-lieu").startswith("Số đơn vị phải báo cáo 5 Đúng hạn 1 Muộn 0 Không nộp (đã khóa sổ) 4")
    assert may_page.text("so-lieu-cuoi").startswith("Kỳ đã khóa sổ: số liệu là cuối cùng")
    assert "so-lieu-cuoi" not in answer.text  # June is overdue, not closed


async def test_the_national_office_reads_without_the_form_and_another_province_is_refused(deadlines):
    app, mint = deadlines
    async with client_of(app, mint.token("national_operator")) as client:
        national = await client.get(dashboard())
        picker = await client.get("/")
    assert national.status_code == 200
    assert "Tỷ lệ báo cáo 60,0%" in Page.of(national.text).text("so-lieu")
    assert "/tien-do/nhac" not in national.text and "Gửi nhắc nhở" not in national.text
    assert "Tài khoản này chỉ xem tiến độ." in national.text
    assert {"href": "/tien-do?province=30"} in [{"href": a["href"]} for a in Page.of(picker.text).all("a")]
    assert "Hải Dương" in picker.text

    async with client_of(app, mint.token("province_operator", "01")) as client:
        other = await client.get(dashboard())
    assert other.status_code == 403
    assert "Không có quyền xem trang này" in other.text and "Sở Tư pháp" not in other.text

    async with client_of(app, mint.token("reporter", "30", "CA")) as client:
        reporter_home, reporter_page = await client.get("/"), await client.get(dashboard())
    assert reporter_home.status_code == 200 and f'href="{INTAKE}/"' in reporter_home.text
    assert "dành cho cơ quan thường trực" in reporter_home.text
    assert reporter_page.status_code == 403

    # Signed out, or with an expired session: to intake's sign-in page (whose `next` takes only its own paths).
    for token in (None, mint.token("province_operator", "30", ttl_s=-120)):
        async with client_of(app, token) as client:
            for url in (dashboard(), "/"):
                signed_out = await client.get(url)
                assert signed_out.status_code == 303 and signed_out.headers["location"] == f"{INTAKE}/dang-nhap"


async def test_a_nudge_from_the_form_reaches_exactly_the_checked_units(deadlines, kafka):
    app, mint = deadlines
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    async with client_of(app, mint.token("province_operator", "30")) as client:
        form = await client.get(dashboard())
        fields = {"province": "30", "plan_id": PLAN.id, "period": "2019-06"}
        refused = await client.post("/tien-do/nhac", data={**fields, "units": ["STP"]})
        assert refused.status_code == 403 and "mã bảo vệ" in refused.text

        message = "Đề nghị đơn vị gửi báo cáo trước 17 giờ hôm nay."
        data = {**fields, "csrf_token": csrf_of(form), "units": ["STP", "CA"], "message": message}
        sent = await client.post("/tien-do/nhac", data=data)
        assert sent.status_code == 303 and sent.headers["location"] == dashboard("2019-06")
        back = await client.get(sent.headers["location"])
    flash = Page.of(back.text).all("p", **{"class": "flash"})
    assert len(flash) == 1
    assert "Đã gửi nhắc nhở tới 1 đơn vị. Không gửi cho 1 đơn vị đã nộp báo cáo: CA." in back.text

    async def nudges():
        records = await read_topic(kafka.bootstrap, DEADLINES, since=since)
        events = [CloudEvent.from_bytes(r.value) for r in records]
        found = [e for e in events if e.type == "vn.baocao.nudge.requested.v1" and e.data["plan_id"] == PLAN.id]
        return found or None

    [nudge] = await wait_until(nudges, timeout=30, what="the nudge on baocao.deadlines")
    assert (nudge.data["unit"], nudge.data["period"], nudge.data["message"]) == ("STP", "2019-06", message)
    assert nudge.data["requested_by"] == "test-province_operator-30"

    async with client_of(app, mint.token("national_operator")) as client:
        page = await client.get(dashboard())
        national = await client.post("/tien-do/nhac", data={**fields, "csrf_token": csrf_of(page), "units": ["STP"]})
    assert national.status_code == 403 and "Chỉ cơ quan thường trực của tỉnh" in national.text


async def test_plans_and_periods_to_choose_from_and_the_stylesheet(deadlines):
    app, mint = deadlines
    later = PLAN.model_copy(update={"id": f"{PLAN.id}-b", "number": "12/KH-BCĐNQ", "first_period": "2030-01"})
    async with DeadlinesUnitOfWork.begin(app.state.runtime.sessionmaker) as uow:
        await catalog.plan_upserted(uow, later)  # a second plan, with no period opened yet
    async with client_of(app, mint.token("admin")) as client:
        plans = await client.get("/tien-do?province=30")
        empty = await client.get(f"/tien-do?province=30&plan_id={later.id}")
        missing = await client.get(dashboard("2019-01"))
        admin = await client.get(dashboard())
        css = await client.get("/static/deadlines/tien-do.css")
    links = [a["href"] for a in Page.of(plans.text).all("a")]
    assert dashboard() in links and f"/tien-do?province=30&plan_id={later.id}" in links
    assert "Kế hoạch chưa mở kỳ báo cáo nào." in empty.text
    assert missing.status_code == 404 and f"Kỳ 2019-01 nằm ngoài kế hoạch {PLAN.id}." in missing.text
    assert "Gửi nhắc nhở (đôn đốc)" in admin.text  # an admin may urge units, like the province's operators
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
