"""The consolidated report on real Kafka and PostgreSQL: exact totals, the workflow, the national roll-up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from baocao_shared.db import make_engine, make_sessionmaker
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
    TaskV1,
    TemplateV1,
    UnitV1,
)
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import REPORTS
from baocao_testing.fixtures import create_database
from baocao_testing.kit import end_offsets, read_topic, wait_until
from services.consolidation.tests.kit import HAI_DUONG, running

pytestmark = pytest.mark.integration
BASE_PLAN = HAI_DUONG.plans[0]
CODES = [i.code for t in BASE_PLAN.template.tasks for i in t.indicators]
AT = datetime(2019, 6, 12, 3, 0, tzinfo=UTC)


def plan_for(province: str, units: list[str]):
    # Other tests publish plan hd-467-2019 on the same broker: each test has plans of its own.
    return BASE_PLAN.model_copy(update={"id": f"c{uuid.uuid4().hex[:8]}", "province": province, "units": units})


def submission(
    plan, unit: str, version: int, figures: dict[str, int], *, sid: uuid.UUID, text: str = ""
) -> SubmissionV1:
    return SubmissionV1(
        submission_id=sid,
        province=plan.province,
        unit=unit,
        plan_id=plan.id,
        period="2019-06",
        version=version,
        values={c: figures.get(c, 0) for c in CODES},
        narratives={"T1": text} if text else {},
        received_at=AT.replace(hour=AT.hour + version),
        first_received_at=AT,
    )


class Harness:
    def __init__(self, app, producer, mint, kafka) -> None:
        self.app, self.producer, self.mint, self.kafka = app, producer, mint, kafka
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consolidation.test")

    async def publish(self, spec, data, *, twice: bool = False) -> CloudEvent:
        event, key = make_event(spec, data, source="/baocao/test", province=getattr(data, "province", None))
        for _ in range(2 if twice else 1):
            await self.producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
        return event

    async def catalogue(self, province: ProvinceV1, units: list[str], plan) -> None:
        await self.publish(PROVINCE_UPSERTED, province)
        for code in units:
            await self.publish(
                UNIT_UPSERTED, UnitV1(province=province.code, code=code, name=f"Đơn vị {code}", kind="member")
            )
        await self.publish(PLAN_UPSERTED, plan)

    async def report(self, plan, role="province_operator", province="own") -> httpx.Response:
        scope = plan.province if province == "own" else province
        return await self.client.get(
            f"/v1/reports/{plan.province}/2019-06", params={"plan_id": plan.id}, headers=self.mint.headers(role, scope)
        )

    async def report_when(self, plan, check, what: str) -> dict:
        async def ready():
            answer = await self.report(plan)
            return answer.json() if answer.status_code == 200 and check(answer.json()) else None

        return await wait_until(ready, timeout=30, what=what)

    async def act(self, plan, action: str, province=None) -> httpx.Response:
        return await self.client.post(
            f"/v1/reports/{plan.province}/2019-06/{action}",
            params={"plan_id": plan.id},
            headers=self.mint.headers("province_operator", province or plan.province),
        )


@pytest.fixture
async def consolidation(postgres, kafka):
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    async with running(postgres, kafka, clock_start=datetime(2019, 6, 18, tzinfo=UTC)) as (app, mint):
        harness = Harness(app, producer, mint, kafka)
        yield harness
        await harness.client.aclose()
    await producer.stop()


async def test_totals_are_exact_under_duplicates_reordering_and_amendment_after_approval(consolidation, kafka):
    h = consolidation
    since = await end_offsets(kafka.bootstrap, REPORTS)
    ca_code, btg_code, sngv_code = (f"U{uuid.uuid4().hex[:6].upper()}" for _ in range(3))  # unique on the broker
    plan = plan_for("30", [ca_code, btg_code, sngv_code])
    await h.catalogue(HAI_DUONG.province, plan.units, plan)
    ca, btg = uuid.uuid4(), uuid.uuid4()
    # BTG's version 2 arrives before its version 1, CA's first report is delivered twice.
    await h.publish(
        SUBMISSION_RECEIVED,
        submission(
            plan, ca_code, 1, {"t1_sessions": 3, "t5_articles": 4}, sid=ca, text="Ba hội nghị <script>x</script>"
        ),
        twice=True,
    )
    await h.publish(SUBMISSION_AMENDED, submission(plan, btg_code, 2, {"t1_sessions": 5}, sid=btg))
    await h.publish(SUBMISSION_RECEIVED, submission(plan, btg_code, 1, {"t1_sessions": 50}, sid=btg))
    report = await h.report_when(plan, lambda r: len(r["units"]) == 2 and r["revision"] == 4, "two units' reports")
    assert report["totals"]["t1_sessions"] == 3 + 5 and report["totals"]["t5_articles"] == 4
    assert {u["unit"]: u["version"] for u in report["units"]} == {ca_code: 1, btg_code: 2}
    t1 = report["tasks"][0]
    assert t1["indicators"][0] == {
        "code": "t1_sessions",
        "label": "Số hội nghị, buổi quán triệt",
        "unit": "buổi",
        "total": 8,
    }
    assert t1["excerpts"] == [
        {"unit": ca_code, "unit_name": f"Đơn vị {ca_code}", "text": "Ba hội nghị <script>x</script>"}
    ]
    assert report["discipline"]["expected"] == 3 and report["discipline"]["missing"] == 1  # due 16/06, now 18/06
    assert [u["unit"] for u in report["discipline"]["missing_units"]] == [sngv_code]
    assert report["title"] == "Kết quả công tác bảo đảm nhân quyền tháng 06/2019"

    approved = await h.act(plan, "approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await h.act(plan, "approve")).status_code == 409
    # A unit amends after approval: the report goes back to draft and says so.
    await h.publish(SUBMISSION_AMENDED, submission(plan, ca_code, 2, {"t1_sessions": 7}, sid=ca))
    reverted = await h.report_when(plan, lambda r: r["status"] == "draft", "the report to go back to draft")
    assert reverted["totals"]["t1_sessions"] == 7 + 5 and ca_code in reverted["status_note"]
    assert (await h.act(plan, "publish")).status_code == 409, "a draft cannot be published"
    assert (await h.act(plan, "approve")).status_code == 200
    published = await h.act(plan, "publish")
    assert published.status_code == 200 and published.json()["status"] == "published"

    async def on_topic():
        events = [CloudEvent.from_bytes(r.value) for r in await read_topic(kafka.bootstrap, REPORTS, since=since)]
        mine = [e for e in events if e.data.get("plan_id") == plan.id]
        return mine if any(e.type.endswith("report.published.v1") for e in mine) else None

    events = await wait_until(on_topic, timeout=20, what="report.published on baocao.reports")
    kinds = ["approved", "reverted", "approved", "document_issued", "document_issued", "published"]
    assert [e.type.split(".")[3] for e in events] == kinds  # the documents first, under the same key
    body = events[-1].data
    assert body["totals"]["t1_sessions"] == 12 and body["status"] == "published" and body["published_by"]
    # Once published, the report is the snapshot that went up, even if a stray event arrives.
    await h.publish(SUBMISSION_AMENDED, submission(plan, btg_code, 3, {"t1_sessions": 99}, sid=btg))
    assert (await h.report(plan)).json()["totals"]["t1_sessions"] == 12

    # The DOCX says the same: the header, the figures and the unit names.
    docx = await h.client.get(
        f"/v1/reports/30/2019-06.docx?plan_id={plan.id}", headers=h.mint.headers("province_operator", "30")
    )
    assert docx.status_code == 200
    text = docx_text(docx.content)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert HAI_DUONG.province.issuing_body in text and f"Đơn vị {sngv_code}" in text
    assert "12" in text and "Kết quả công tác bảo đảm nhân quyền tháng 06/2019" in text


def docx_text(content: bytes) -> str:
    import io

    from docx import Document

    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def test_a_rebuild_from_the_topics_equals_the_live_reports_byte_for_byte(consolidation, postgres):
    from consolidation.adapters.uow import ConsolidationUnitOfWork
    from consolidation.domain.report import ReportAddress
    from consolidation.handlers import reports
    from consolidation.rebuild import rebuild

    h = consolidation
    published, approved, draft, returned, accepted = (
        plan_for("30", [f"U{uuid.uuid4().hex[:6].upper()}" for _ in range(3)]) for _ in range(5)
    )
    everyone = (published, approved, draft, returned, accepted)
    for plan in everyone:
        await h.catalogue(HAI_DUONG.province, plan.units, plan)
        sid = uuid.uuid4()
        await h.publish(SUBMISSION_RECEIVED, submission(plan, plan.units[0], 1, {"t1_sessions": 2}, sid=sid, text="A"))
        await h.publish(SUBMISSION_AMENDED, submission(plan, plan.units[0], 2, {"t1_sessions": 3}, sid=sid, text="B"))
        await h.publish(SUBMISSION_RECEIVED, submission(plan, plan.units[1], 1, {"t2_campaigns": 1}, sid=uuid.uuid4()))
        await h.report_when(plan, lambda r: len(r["units"]) == 2 and r["revision"] == 4, "the reports")
    for plan in (published, draft):  # the office's words survive the rebuild, published or not
        edited = await h.client.put(
            "/v1/reports/30/2019-06/sections/t1",
            params={"plan_id": plan.id},
            json={"text": f"Văn phòng viết cho {plan.id}.", "base_version": 0},
            headers=h.mint.headers("province_operator", "30"),
        )
        assert edited.status_code == 200, edited.text
    for plan in (published, approved, returned, accepted):
        assert (await h.act(plan, "approve")).status_code == 200
    sent = await h.act(published, "publish")
    assert sent.status_code == 200, sent.text
    # The national office returns one (a draft again, saying why) and accepts another after it went up again.
    national = h.mint.headers("national_operator")
    for plan in (returned, accepted):
        assert (await h.act(plan, "publish")).status_code == 200
        answer = await h.client.post(
            "/v1/reports/30/2019-06/return", params={"plan_id": plan.id}, json={"reason": "Bổ sung số liệu"},
            headers=national,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert (await h.act(accepted, "approve")).status_code == 200
    assert (await h.act(accepted, "publish")).json()["replaces"]
    answer = await h.client.post("/v1/reports/30/2019-06/accept", params={"plan_id": accepted.id}, headers=national)
    assert answer.status_code == 200, answer.text

    async def own_events_consumed():  # the live side has read its own report events back
        async with h.app.state.runtime.sessionmaker() as session:
            unread = await session.scalar(
                text("SELECT count(*) FROM outbox WHERE event_id NOT IN (SELECT event_id FROM inbox)")
            )
        return unread == 0  # every event this app wrote (the national office's answers last) came back

    await wait_until(own_events_consumed, timeout=20, what="the report events to come back")
    rebuilt_url = await create_database(postgres, "rebuilt")
    outcome = await rebuild(h.app.state.runtime.settings, into=rebuilt_url)
    assert outcome.applied > 0
    print(f"\nrebuild: {outcome.records} records replayed, {outcome.applied} applied, {outcome.seconds:.1f}s")
    now = datetime(2019, 6, 18, 12, tzinfo=UTC)
    engine = make_engine(rebuilt_url)
    try:
        for plan in everyone:
            async with h.app.state.runtime.sessionmaker() as live, make_sessionmaker(engine)() as rebuilt:
                live_uow, rebuilt_uow = ConsolidationUnitOfWork(live), ConsolidationUnitOfWork(rebuilt)
                address = ReportAddress("30", "2019-06", plan.id)
                want = await reports.current(live_uow, address=address, now=now)
                got = await reports.current(rebuilt_uow, address=address, now=now)
                live_docs = await live_uow.documents.issued_for("30", plan.id, "2019-06")
                got_docs = await rebuilt_uow.documents.issued_for("30", plan.id, "2019-06")
            assert got.model_dump_json() == want.model_dump_json() and got_docs == live_docs
            statuses = {published.id: "published", approved.id: "approved", draft.id: "draft"}
            statuses |= {returned.id: "draft", accepted.id: "accepted"}
            assert want.status == statuses[plan.id]
            assert (want.returned is not None) == (plan is returned) and bool(want.replaces) == (plan is accepted)
            if plan in (published, draft):
                assert next(s for s in got.sections if s.key == "t1").text == f"Văn phòng viết cho {plan.id}."
        # The frozen documents come back byte for byte, and the register goes on from the number given.
        async with h.app.state.runtime.sessionmaker() as live, make_sessionmaker(engine)() as rebuilt:
            live_uow, rebuilt_uow = ConsolidationUnitOfWork(live), ConsolidationUnitOfWork(rebuilt)
            for ref in sent.json()["documents"]:
                want_doc = await live_uow.documents.find(ref["sha256"], body=True)
                got_doc = await rebuilt_uow.documents.find(ref["sha256"], body=True)
                assert got_doc is not None and got_doc.body == want_doc.body and got_doc.number == want_doc.number
            number = int(sent.json()["number"].split("/")[0])
            assert await rebuilt_uow.register.last("30", 2019) == await live_uow.register.last("30", 2019) >= number
    finally:
        await engine.dispose()


async def test_who_may_read_and_act(consolidation):
    h = consolidation
    plan = plan_for("30", ["CA"])
    await h.catalogue(HAI_DUONG.province, plan.units, plan)
    await h.report_when(plan, lambda r: True, "the plan to be known")
    assert (await h.report(plan, role="province_operator", province="01")).status_code == 403
    assert (await h.report(plan, role="national_operator", province=None)).status_code == 403, "not published yet"
    unit = await h.client.get(
        f"/v1/reports/30/2019-06?plan_id={plan.id}", headers=h.mint.headers("reporter", "30", "CA")
    )
    assert unit.status_code == 403
    assert (await h.act(plan, "approve", province="01")).status_code == 403
    assert (await h.client.get(f"/v1/reports/30/2019-06?plan_id={plan.id}")).status_code == 401


def regime_of(regime_id: str, *codes: str) -> RegimeV1:
    indicators = [IndicatorV1(code=code, label=f"Chỉ tiêu {code}") for code in codes]
    return RegimeV1(
        id=regime_id, number=f"{regime_id}/HD", title=f"Chế độ {regime_id}", issued_by="Văn phòng Thường trực",
        template=TemplateV1(tasks=[TaskV1(code="A", title="A", indicators=indicators)]),
    )  # fmt: skip


async def test_national_roll_up_per_regime_never_adds_two_regimes_together(consolidation):
    """Two regimes that both name an indicator `so_buoi`: provinces 71 and 72 report into the first (71's
    t2_campaigns mapped onto so_buoi), 73 into the second, 74 into the first but publishes nothing, 75 into none."""
    h = consolidation
    tag = uuid.uuid4().hex[:6]  # other tests' plans on this broker report into nhan-quyen, never into ours
    first, second = regime_of(f"a-{tag}", "so_buoi"), regime_of(f"b-{tag}", "so_buoi")
    await h.publish(REGIME_UPSERTED, first)
    await h.publish(REGIME_UPSERTED, second)
    into = {"71": first, "72": first, "73": second, "74": first, "75": None}
    provinces = {
        code: ProvinceV1(code=code, name=f"Tỉnh {code}", issuing_body=f"BCĐ {code}", place_name=f"T{code}")
        for code in into
    }
    plans = {}
    for code, regime in into.items():
        mapping = {"regime": regime.id, "indicators": {"t2_campaigns": "so_buoi"}} if regime else None
        plan = plan_for(code, ["U1", "U2"]).model_copy(update={"national": NationalMappingV1.model_validate(mapping)
                                                                 if mapping else None})  # fmt: skip
        plans[code] = plan
        await h.catalogue(provinces[code], ["U1", "U2"], plan)
        for n, unit in enumerate(["U1", "U2"], 1):
            await h.publish(
                SUBMISSION_RECEIVED,
                submission(plan, unit, 1, {"t2_campaigns": int(code) * n, "t5_articles": n}, sid=uuid.uuid4()),
            )
    for code in ("71", "72", "73", "75"):
        await h.report_when(plans[code], lambda r: len(r["units"]) == 2, f"province {code}'s reports")
        assert (await h.act(plans[code], "approve")).status_code == 200
        assert (await h.act(plans[code], "publish")).status_code == 200
    answer = await h.client.get("/v1/national/2019-06", headers=h.mint.headers("national_operator"))
    assert answer.status_code == 200
    body = answer.json()
    assert "totals" not in body, "no total across regimes"
    regimes = {r["regime"]: r for r in body["regimes"]}
    a, b = regimes[first.id], regimes[second.id]
    # Sums computed independently: each province's units' t2_campaigns (code x 1 + code x 2), within its regime.
    assert a["totals"]["so_buoi"] == 71 * 3 + 72 * 3 and b["totals"]["so_buoi"] == 73 * 3
    assert a["totals"]["t5_articles"] == 2 * 3 and b["totals"]["t5_articles"] == 3, "unlisted: the same code"
    assert "t2_campaigns" not in a["totals"]
    assert (a["number"], a["title"]) == (first.number, first.title)
    assert [(p["province"], p["status"], p["totals"].get("so_buoi")) for p in a["provinces"]] == [
        ("71", "published", 71 * 3),
        ("72", "published", 72 * 3),
        ("74", "draft", None),
    ]
    assert a["missing"] == [{"province": "74", "province_name": "Tỉnh 74", "plan_id": plans["74"].id}]
    assert [p["province"] for p in b["provinces"]] == ["73"] and b["missing"] == []
    assert {"province": "75", "plan_id": plans["75"].id, "status": "published"} in body["unmapped"]
    ours = {p["province"]: p["status"] for p in body["provinces"] if p["plan_id"] in {x.id for x in plans.values()}}
    assert ours == {"71": "published", "72": "published", "73": "published", "74": "draft", "75": "published"}
    assert (
        await h.client.get("/v1/national/2019-06", headers=h.mint.headers("province_operator", "71"))
    ).status_code == 403
    assert (await h.report(plans["71"], role="national_operator", province=None)).status_code == 200
