"""The national level on real Kafka and PostgreSQL (issue 18 §1): three provinces owe the national office their
report of November 2026, due at 00:00 on the 20th. One publishes on the 19th (on time), one at 09:30:07 on the 20th
(late by exactly 9 h 30 min 7 s), one never (missing: reminded, overdue, escalated to the national office). The
reports arrive on baocao.reports as consolidation publishes them; the test ticks the scheduler itself."""

from __future__ import annotations

import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from baocao_shared.events import CloudEvent
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import (
    NATIONAL_ESCALATION_RAISED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_NUDGE_REQUESTED,
    PROVINCE_OBLIGATION_UPDATED,
    PROVINCE_REMINDER_DUE,
)
from baocao_shared.events.reports import REPORT_PUBLISHED, ConsolidatedReportV1, DisciplineV1
from baocao_shared.events.topics import DEADLINES
from baocao_testing.html import Page
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from deadlines.adapters import orm
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from services.deadlines.tests.integration.apps import HAI_DUONG, publish, settings_for, utc

pytestmark = pytest.mark.integration
PERIOD = "2026-11"
ON_TIME, LATE, NEVER = "71", "72", "73"  # no other test's provinces: the app reads the shared broker
PROVINCES = (ON_TIME, LATE, NEVER)
PLAN_ID = f"nat-{uuid.uuid4().hex[:8]}"
NOW = "2026-11-21T10:00:00+07:00"  # the app's clock when the API is read


def province(code: str):
    return HAI_DUONG.province.model_copy(update={"code": code, "name": f"Tỉnh Thử {code}"})


def plan(code: str):
    return HAI_DUONG.plans[0].model_copy(
        update={"province": code, "id": PLAN_ID, "units": ["CA"], "tracking_from": PERIOD}
    )


def published(code: str, at: str) -> ConsolidatedReportV1:
    """A report as consolidation publishes it (report.published on baocao.reports)."""
    return ConsolidatedReportV1(
        province=code, province_name=f"Tỉnh Thử {code}", plan_id=PLAN_ID, plan_number="467/KH-BCĐNQ", period=PERIOD,
        status="published", revision=1, issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN", place_name="Thử",
        title="Báo cáo kết quả tháng 11/2026", number_code="/BC-BCĐNQ", recipients=[], signer_position="TRƯỞNG BAN",
        signer_name="", totals={}, tasks=[], units=[], difficulties=[], next_month=[], closing_labels={},
        discipline=DisciplineV1(expected=1, on_time=1, late=0, missing=0, pending=0),
        approved_at=utc(at), published_at=utc(at), approved_by=f"op-{code}", published_by=f"op-{code}",
    )  # fmt: skip


@pytest.fixture
async def deadlines(postgres, kafka):
    mint = TokenMint()
    settings = await settings_for(postgres, kafka, clock="simulated", clock_start=utc(NOW))
    app = create_app(settings, verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        yield app, mint


async def count(app, query) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(query)


async def test_on_time_late_by_the_exact_seconds_and_missing_reminded_and_escalated(deadlines, kafka):
    app, mint = deadlines
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    po = orm.province_obligations.c

    async def at(instant: str) -> None:
        await tick(app.state.runtime.sessionmaker, now=utc(instant))

    try:
        loaded = utc("2026-11-01T00:00:00+07:00")
        for code in PROVINCES:
            await publish(producer, PROVINCE_UPSERTED, province(code), loaded, province=code)
            unit = HAI_DUONG.units[0].model_copy(update={"province": code, "code": "CA"})
            await publish(producer, UNIT_UPSERTED, unit, loaded, province=code)
            await publish(producer, PLAN_UPSERTED, plan(code), loaded, province=code)
        plans = select(func.count()).select_from(orm.plans).where(orm.plans.c.id == PLAN_ID)
        await wait_until(lambda: _equals(count(app, plans), 3), timeout=30, what="the plans to reach deadlines")
        units = select(func.count()).select_from(orm.units).where(orm.units.c.province.in_(PROVINCES))
        await wait_until(lambda: _equals(count(app, units), 3), timeout=30, what="the units to reach deadlines")

        await at("2026-11-10T10:00:00+07:00")  # opens November: the provinces owe it by the 20th
        owed = select(func.count()).select_from(orm.province_obligations).where(po.plan_id == PLAN_ID, po.expected)
        assert await count(app, owed) == 3
        for instant in ("2026-11-16T09:00:00+07:00", "2026-11-18T09:00:00+07:00"):
            await at(instant)  # the province's reminders -3 and -1 (16th, 18th at 08:00)

        for code, instant in ((ON_TIME, "2026-11-19T15:00:00+07:00"), (LATE, "2026-11-20T09:30:07+07:00")):
            await publish(producer, REPORT_PUBLISHED, published(code, instant), utc(instant), province=code)
        first = select(func.count()).where(po.plan_id == PLAN_ID, po.first_published_at.is_not(None))
        await wait_until(lambda: _equals(count(app, first), 2), timeout=30, what="the publications to reach deadlines")
        # Returned and published again on the 24th: the first publication stays the province's submission.
        again = "2026-11-24T09:00:00+07:00"
        await publish(producer, REPORT_PUBLISHED, published(LATE, again), utc(again), province=LATE)
        last = select(po.last_published_at).where(po.plan_id == PLAN_ID, po.province == LATE)
        await wait_until(lambda: _equals(count(app, last), utc(again)), timeout=30, what="the republication")

        await at("2026-11-19T09:00:00+07:00")  # reminder 0, to the province still missing only
        await at("2026-11-20T10:00:00+07:00")  # overdue +1 and the digest to the national office, 08:00

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test") as http:
            national = {"Authorization": f"Bearer {mint.token('national_operator')}"}
            operator = {"Authorization": f"Bearer {mint.token('province_operator', province=NEVER)}"}
            url = f"/v1/compliance?level=national&period={PERIOD}&plan={PLAN_ID}"
            answer = await http.get(url, headers=national)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert (body["period"], body["due_at"], body["plan_id"]) == (PERIOD, "2026-11-19T17:00:00Z", PLAN_ID)
            assert [(u["unit"], u["unit_name"], u["status"], u["late_by_s"]) for u in body["units"]] == [
                (ON_TIME, "Tỉnh Thử 71", "on_time", None),
                (LATE, "Tỉnh Thử 72", "late", 9 * 3600 + 30 * 60 + 7),
                (NEVER, "Tỉnh Thử 73", "missing", None),
            ]
            assert body["units"][1]["first_submitted_at"] == "2026-11-20T02:30:07Z"
            assert body["summary"] == {
                "expected": 3, "on_time": 1, "late": 1, "missing": 1, "pending": 0,
                "reporting_rate": 0.6667, "on_time_rate": 0.3333,
            }  # fmt: skip
            assert (await http.get(url, headers=operator)).status_code == 403
            # level=province (the default) answers as it always did: the province's units
            units_of = await http.get(f"/v1/compliance?province={NEVER}&period={PERIOD}", headers=national)
            assert [(u["unit"], u["status"]) for u in units_of.json()["units"]] == [("CA", "missing")]

            await the_national_dashboard_shows_it(app, mint)

            nudge = {"period": PERIOD, "plan_id": PLAN_ID, "provinces": [ON_TIME, NEVER], "message": "Đề nghị gửi."}
            urged = await http.post("/v1/nudges/national", json=nudge, headers=national)
            assert urged.status_code == 202, urged.text
            assert urged.json()["sent"] == [{"province": NEVER, "plan_id": PLAN_ID}]
            assert [s["province"] for s in urged.json()["skipped"]] == [ON_TIME]
            assert (await http.post("/v1/nudges/national", json=nudge, headers=operator)).status_code == 403
    finally:
        await producer.stop()

    def ours(spec) -> list[tuple[str, dict]]:
        """This test's events of one type (a digest names no plan_id: its plan_ids are checked below)."""
        return [(key, d) for key, d, type_ in told if type_ == spec.type and d.get("plan_id", PLAN_ID) == PLAN_ID]

    async def all_told():
        records = await read_topic(kafka.bootstrap, DEADLINES, since=since)
        found = []
        for record in records:
            event = CloudEvent.from_bytes(record.value)
            found.append((record.key.decode(), event.data, event.type))
        return found

    async def nudged():
        nonlocal told
        told = await all_told()
        return ours(PROVINCE_NUDGE_REQUESTED)

    told: list = []
    await wait_until(nudged, timeout=30, what="the nudge on baocao.deadlines")
    reminders = [(key, d["sequence"]) for key, d in ours(PROVINCE_REMINDER_DUE)]
    assert sorted(reminders) == sorted(
        [(code, 0) for code in PROVINCES] + [(code, 1) for code in PROVINCES] + [(NEVER, 2)]
    )
    assert [(key, d["late_by_s"]) for key, d in ours(PROVINCE_DEADLINE_MISSED)] == [(NEVER, 8 * 3600)]
    digests = [(key, d) for key, d in ours(NATIONAL_ESCALATION_RAISED) if PLAN_ID in d["plan_ids"]]
    assert [(key, [m["province"] for m in d["missing_provinces"]], d["expected"]) for key, d in digests] == [
        ("national", [NEVER], 3)
    ]
    updated = {key: (d["status"], d["late_by_s"]) for key, d in ours(PROVINCE_OBLIGATION_UPDATED)}
    assert updated == {ON_TIME: ("on_time", None), LATE: ("late", 34207)}
    assert [(key, d["kind"], d["requested_by"]) for key, d in ours(PROVINCE_NUDGE_REQUESTED)] == [
        (NEVER, "nudge", "test-national_operator")
    ]


async def the_national_dashboard_shows_it(app, mint) -> None:
    """/tien-do/quoc-gia as the national office reads it (without a browser): the period, each province's status
    and how late, the rates, and a nudge form offering the province still missing only; 403 for a province."""

    def client(token: str) -> httpx.AsyncClient:
        found = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test")
        found.cookies.set("baocao_session", token)
        return found

    url = f"/tien-do/quoc-gia?period={PERIOD}&plan_id={PLAN_ID}"
    async with client(mint.token("national_operator")) as browser:
        answer = await browser.get(url)
        assert answer.status_code == 200, answer.text
        page = Page.of(answer.text)
        assert url in [a["href"] for a in page.all("a", **{"aria-current": "page"})], "the period picked"
        rows = {code: " ".join(page.text(f"tinh-{code}").split()) for code in PROVINCES}
        assert rows == {
            ON_TIME: "Tỉnh Thử 71 71 ✓ Đúng hạn 19/11/2026 15:00 ✓ 2026-11: Đúng hạn",
            LATE: "Tỉnh Thử 72 72 ! Muộn 20/11/2026 09:30 muộn 9 giờ 30 phút ! 2026-11: Muộn",
            NEVER: "Tỉnh Thử 73 73 ✗ Chưa gửi chưa có ✗ 2026-11: Chưa gửi",
        }
        assert " ".join(page.text("so-lieu").split()) == (
            "Số tỉnh phải báo cáo 3 Đúng hạn 1 Muộn 1 Chưa gửi (quá hạn) 1 Chưa đến hạn 0 Tỷ lệ báo cáo 66,7% "
            "Tỷ lệ đúng hạn 33,3%"
        )
        form = page.one("form", action="/tien-do/quoc-gia/nhac")
        assert form["method"] == "post"
        assert [box["value"] for box in page.all("input", name="provinces")] == [NEVER], "the missing one only"
        malformed = await browser.get(f"/tien-do/quoc-gia?period=2026-13&plan_id={PLAN_ID}")
        assert malformed.status_code == 404 and "2026-13" in malformed.text
    async with client(mint.token("province_operator", NEVER)) as province:
        assert (await province.get(url)).status_code == 403


async def _equals(value, expected) -> bool:
    return (await value) == expected
