"""The periods deadlines opens are the shared truth (baocao_shared.periods), on real Kafka and PostgreSQL.

A plan tracked since 2019-06, first seen by the scheduler in December 2026, opens its 91 periods in one tick:
their past notices are skipped, each closed period closes once, and the compliance of May 2025 answers (missing
is final) instead of 404. Then a report accepted after the close under the office's exception counts late, an
imported one changes nothing, and a start of tracking moved to 2026-06 makes the periods before it history.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from baocao_shared.events.catalog import ProvinceV1, UnitV1
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_testing.kit import TokenMint, wait_until
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.integration.apps import publish, settings_for, utc

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PROVINCE = "53"  # no other test's province: the app reads the shared broker
NOW = "2026-12-07T09:00:00+07:00"
PLAN = HAI_DUONG.plans[0].model_copy(
    update={
        "province": PROVINCE,
        "units": ["CA", "BTG"],
        "id": f"tp-{uuid.uuid4().hex[:8]}",
        "first_period": "2019-06",
        "tracking_from": None,
        "last_period": None,  # a province never reorganised: its plan goes on to today
        "successor": None,
    }
)


@pytest.fixture
async def deadlines(postgres, kafka):
    mint = TokenMint()
    settings = await settings_for(postgres, kafka, clock="simulated", clock_start=utc(NOW))
    app = create_app(settings, verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        async with DeadlinesUnitOfWork.begin(app.state.runtime.sessionmaker) as uow:
            place = ProvinceV1(code=PROVINCE, name="Tỉnh Thử", issuing_body="BAN CHỈ ĐẠO THỬ", place_name="Thử")
            await catalog.province_upserted(uow, place)
            for unit in ("CA", "BTG"):
                await catalog.unit_upserted(uow, UnitV1(province=PROVINCE, code=unit, name=unit, kind="member"))
            await catalog.plan_upserted(uow, PLAN)
        yield app, mint


async def scalar(app, query):
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(query)


def submission(unit: str, period: str, **flags) -> SubmissionV1:
    at = utc(NOW)
    return SubmissionV1(
        submission_id=uuid.uuid4(), province=PROVINCE, unit=unit, plan_id=PLAN.id, period=period, version=1,
        values={}, narratives={}, received_at=at, first_received_at=at, **flags,
    )  # fmt: skip


async def test_a_plan_tracked_since_2019_opens_every_period_and_answers_for_may_2025(deadlines, kafka):
    app, mint = deadlines
    sessions = app.state.runtime.sessionmaker
    started = time.monotonic()
    await tick(sessions, now=utc(NOW))
    assert time.monotonic() - started < 20, "opening and closing ~90 periods takes a few statements, not minutes"

    p, s, o = orm.periods.c, orm.scheduled_items.c, orm.obligations.c
    assert await scalar(app, select(func.count()).where(p.plan_id == PLAN.id)) == 91  # 2019-06 .. 2026-12
    assert await scalar(app, select(func.count()).where(o.plan_id == PLAN.id, o.expected)) == 182
    closes = select(func.count()).where(s.plan_id == PLAN.id, s.kind == "close", s.state == "fired")
    assert await scalar(app, closes) == 90  # every closed period closed once (2019-06 .. 2026-11)
    past = select(func.count()).where(
        s.plan_id == PLAN.id, s.kind.not_in(("close", "national_close")), s.state != "skipped", s.period < "2026-11"
    )
    assert await scalar(app, past) == 0  # no reminder or overdue notice for the past
    assert await scalar(app, select(func.count()).where(orm.notices.c.plan_id == PLAN.id)) == 0
    assert await tick(sessions, now=utc(NOW)) == 0  # nothing fires twice

    headers = mint.headers("province_operator", PROVINCE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test") as client:
        may = await client.get("/v1/compliance", params={"province": PROVINCE, "period": "2025-05"}, headers=headers)
        standing = await client.get(f"/v1/periods/{PROVINCE}/2025-05", headers=headers)
        listed = await client.get(f"/v1/periods/{PROVINCE}", params={"plan_id": PLAN.id}, headers=headers)
        malformed = await client.get(f"/v1/periods/{PROVINCE}/2025-13", headers=headers)
        unknown = await client.get("/v1/periods/54/2025-05", headers=headers)
    assert may.status_code == 200, may.text
    body = may.json()
    assert (body["state"], body["final"], body["closed_at"]) == ("closed", True, "2025-05-24T17:00:00Z")
    assert {u["unit"]: u["status"] for u in body["units"]} == {"BTG": "missing", "CA": "missing"}
    assert standing.status_code == 200 and standing.json() | {"opens_at": None, "due_at": None} == {
        "province": PROVINCE, "plan_id": PLAN.id, "period": "2025-05", "state": "closed", "label": "Đã khóa sổ",
        "tracked": True, "accepting": False, "tracking_from": "2019-06", "opens_at": None, "due_at": None,
        "closes_at": "2025-05-24T17:00:00Z",
    }  # fmt: skip
    periods = listed.json()
    assert [x["period"] for x in periods][:2] == ["2019-06", "2019-07"] and len(periods) == 91
    assert periods[-1]["state"] == "open" and {x["state"] for x in periods[:-1]} == {"closed"}
    assert (malformed.status_code, unknown.status_code) == (422, 404)

    # A report accepted after the close under the office's exception counts, late; an imported one (the same
    # unit's key, so before it) changes nothing.
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        imported = submission("CA", "2019-06", imported=True)
        excepted = submission("CA", "2025-05", after_close=True)
        for sent in (imported, excepted):
            await publish(producer, SUBMISSION_RECEIVED, sent, sent.received_at)
    finally:
        await producer.stop()
    arrived = select(o.first_submitted_at).where(o.plan_id == PLAN.id, o.period == "2025-05", o.unit == "CA")

    async def recorded():
        return await scalar(app, arrived)

    await wait_until(recorded, timeout=30, what="the report after the close to reach deadlines")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test") as client:
        may = await client.get("/v1/compliance", params={"province": PROVINCE, "period": "2025-05"}, headers=headers)
        june_2019 = await client.get(
            "/v1/compliance", params={"province": PROVINCE, "period": "2019-06"}, headers=headers
        )
        client.cookies.set("baocao_session", mint.token("province_operator", PROVINCE))
        board = await client.get("/tien-do", params={"province": PROVINCE, "period": "2025-05"})
    units = {u["unit"]: (u["status"], u["after_close"]) for u in may.json()["units"]}
    assert units == {"BTG": ("missing", False), "CA": ("late", True)}
    assert (may.json()["summary"]["late"], may.json()["summary"]["missing"]) == (1, 1)
    assert {u["unit"]: u["status"] for u in june_2019.json()["units"]} == {"BTG": "missing", "CA": "missing"}
    assert board.status_code == 200 and "Nộp sau khóa sổ (ngoại lệ)" in board.text


async def test_a_start_of_tracking_moved_later_makes_the_earlier_periods_history(deadlines):
    app, mint = deadlines
    sessions = app.state.runtime.sessionmaker
    await tick(sessions, now=utc(NOW))
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await catalog.plan_upserted(uow, PLAN.model_copy(update={"tracking_from": "2026-06"}))
    await tick(sessions, now=utc(NOW))

    p, o = orm.periods.c, orm.obligations.c
    assert await scalar(app, select(func.min(p.period)).where(p.plan_id == PLAN.id)) == "2026-06"
    owed_before = select(func.count()).where(o.plan_id == PLAN.id, o.period < "2026-06", o.expected)
    assert await scalar(app, owed_before) == 0  # kept, not expected: no figure counts them
    headers = mint.headers("national_operator")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://deadlines.test") as client:
        may = await client.get("/v1/compliance", params={"province": PROVINCE, "period": "2025-05"}, headers=headers)
        standing = await client.get(f"/v1/periods/{PROVINCE}/2025-05", headers=headers)
        june = await client.get("/v1/compliance", params={"province": PROVINCE, "period": "2026-06"}, headers=headers)
        client.cookies.set("baocao_session", mint.token("national_operator"))
        board = await client.get("/tien-do", params={"province": PROVINCE})
    assert may.status_code == 404
    error = may.json()["error"]
    assert error["details"] == {"state": "history", "tracking_from": "2026-06", "opens_at": "2025-04-14T17:00:00Z"}
    assert error["message"].startswith("Kỳ 2025-05 là số liệu lịch sử, trước khi tỉnh bắt đầu theo dõi")
    assert (standing.json()["state"], standing.json()["tracked"]) == ("history", False)
    assert june.status_code == 200 and june.json()["summary"]["missing"] == 2
    assert board.status_code == 200 and "2025-05" not in board.text and "2026-06" in board.text


async def test_a_plan_waits_for_its_units_still_arriving_then_every_one_owes(deadlines):
    """A province's load arrives as many events: a plan whose unit has not arrived opens nothing (a period opened
    now would be owed by part of its units), and opens whole once it has."""
    app, _ = deadlines
    sessions = app.state.runtime.sessionmaker
    later = PLAN.model_copy(update={"id": f"tp-{uuid.uuid4().hex[:8]}", "units": ["CA", "BTG", "STTTT"]})
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await catalog.plan_upserted(uow, later)
    await tick(sessions, now=utc(NOW))
    p, o = orm.periods.c, orm.obligations.c
    assert await scalar(app, select(func.count()).where(p.plan_id == later.id)) == 0
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await catalog.unit_upserted(uow, UnitV1(province=PROVINCE, code="STTTT", name="Sở TT&TT", kind="member"))
    await tick(sessions, now=utc(NOW))
    december = select(o.unit).where(o.plan_id == later.id, o.period == "2026-12", o.expected).order_by(o.unit)
    async with sessions() as session:
        assert list(await session.scalars(december)) == ["BTG", "CA", "STTTT"]
