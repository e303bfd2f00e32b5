"""Obligations follow the structure in force in each period (issue 17, part 2), on real Kafka and PostgreSQL.

Since 1 July 2025 Hải Dương's districts are abolished and its communes report directly: a unit retired at 2025-06
keeps its obligations up to 2025-06 (compliance of 2025-06 still lists it) and owes nothing after; a commune in
force from 2025-07 owes nothing before. A reorganisation loaded late (a unit.upserted with a new valid_to after
later periods were opened) stops that unit's obligations for them, unless its report arrived, and no reminder,
overdue notice or escalation names it for them afterwards.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import CloudEvent
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import DEADLINES
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from deadlines.adapters import orm
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from services.deadlines.tests.integration.apps import HAI_DUONG, publish, settings_for, utc

pytestmark = pytest.mark.integration
SEPT_10 = "2025-09-10T10:00:00+07:00"  # the app's clock: 2025-05 .. 2025-08 tracked, 2025-09 open


def code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


def unit(code: str, province: str = "30", **fields) -> UnitV1:
    return UnitV1(province=province, code=code, name=f"Đơn vị {code}", kind="member", **fields)


def report(plan_id: str, unit: str, period: str, received: str, province: str = "30") -> SubmissionV1:
    return SubmissionV1(
        submission_id=uuid.uuid4(),
        province=province,
        unit=unit,
        plan_id=plan_id,
        period=period,
        version=1,
        values={},
        narratives={},
        received_at=utc(received),
        first_received_at=utc(received),
    )


@pytest.fixture
async def deadlines(postgres, kafka):
    """A deadlines app whose clock reads 10 September 2025 in Hải Dương, its producer, and a token minter."""
    mint = TokenMint()
    settings = await settings_for(postgres, kafka, clock="simulated", clock_start=utc(SEPT_10))
    app = create_app(settings, verifier=mint.verifier())
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            yield app, producer, mint
    finally:
        await producer.stop()


async def stored(app, table, where):
    async with app.state.runtime.sessionmaker() as session:
        return (await session.execute(select(table).where(where))).all()


async def compliance_of(app, mint: TokenMint, plan_id: str, period: str, province: str = "30") -> dict[str, dict]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {mint.token('province_operator', province)}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://deadlines.test", headers=headers) as client:
        params = {"province": province, "period": period, "plan_id": plan_id}
        answer = await client.get("/v1/compliance", params=params)
    assert answer.status_code == 200, answer.text
    return {u["unit"]: u for u in answer.json()["units"]}


async def test_compliance_lists_the_districts_until_june_2025_and_the_communes_from_july(deadlines, kafka):
    app, producer, mint = deadlines
    districts, communes = [code("H") for _ in range(2)], [code("X") for _ in range(3)]
    plan = HAI_DUONG.plans[0].model_copy(
        update={"id": f"reorg-{uuid.uuid4().hex[:8]}", "first_period": "2025-05", "units": districts + communes}
    )
    await publish(producer, PROVINCE_UPSERTED, HAI_DUONG.province, utc(SEPT_10))
    for c in districts:
        await publish(producer, UNIT_UPSERTED, unit(c, valid_to="2025-06"), utc(SEPT_10))
    for c in communes:
        await publish(producer, UNIT_UPSERTED, unit(c, valid_from="2025-07"), utc(SEPT_10))
    # A district's June report arrives before the period opens: history kept, on record.
    await publish(producer, SUBMISSION_RECEIVED, report(plan.id, districts[0], "2025-06", "2025-06-12T09:00:00+07:00"),
                  utc(SEPT_10))  # fmt: skip
    await publish(producer, PLAN_UPSERTED, plan, utc(SEPT_10))
    u, p = orm.units.c, orm.plans.c
    await wait_until(lambda: stored(app, orm.plans, p.id == plan.id), timeout=90, what="the plan")
    await wait_until(
        lambda: _all(stored(app, orm.units, u.code.in_(districts + communes)), 5), timeout=90, what="the units"
    )
    o = orm.obligations.c
    await wait_until(lambda: stored(app, orm.obligations, o.plan_id == plan.id), timeout=90, what="the June report")
    await tick(app.state.runtime.sessionmaker, now=utc(SEPT_10))

    june, august = [await compliance_of(app, mint, plan.id, period) for period in ("2025-06", "2025-08")]
    assert set(june) == set(districts)
    assert june[districts[0]]["status"] == "on_time"
    assert set(august) == set(communes)
    assert set(await compliance_of(app, mint, plan.id, "2025-05")) == set(districts)
    assert set(await compliance_of(app, mint, plan.id, "2025-07")) == set(communes)


async def _all(rows, count: int):
    found = await rows
    return found if len(found) == count else None


async def test_a_unit_retired_by_a_late_catalogue_update_stops_owing_the_periods_after_it(deadlines, kafka):
    app, producer, mint = deadlines
    gone, reported, stays = code("G"), code("R"), code("S")
    plan = HAI_DUONG.plans[0].model_copy(
        update={"id": f"late-{uuid.uuid4().hex[:8]}", "first_period": "2025-06", "units": [gone, reported, stays]}
    )
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    await publish(producer, PROVINCE_UPSERTED, HAI_DUONG.province, utc(SEPT_10))
    for c in (gone, reported, stays):
        await publish(producer, UNIT_UPSERTED, unit(c), utc(SEPT_10))
    await publish(producer, PLAN_UPSERTED, plan, utc(SEPT_10))
    await publish(producer, SUBMISSION_RECEIVED, report(plan.id, reported, "2025-07", "2025-07-10T09:00:00+07:00"),
                  utc(SEPT_10))  # fmt: skip
    o = orm.obligations.c
    mine = (o.plan_id == plan.id) & (o.period == "2025-07")
    await wait_until(lambda: stored(app, orm.plans, orm.plans.c.id == plan.id), timeout=90, what="the plan")
    await wait_until(lambda: _all(stored(app, orm.units, orm.units.c.code.in_([gone, reported, stays])), 3),
                     timeout=90, what="the units")  # fmt: skip
    await wait_until(lambda: stored(app, orm.obligations, mine), timeout=90, what="the July report")
    await tick(app.state.runtime.sessionmaker, now=utc(SEPT_10))  # opens 2025-06 .. 2025-09, all three owe them
    assert set(await compliance_of(app, mint, plan.id, "2025-08")) == {gone, reported, stays}

    # The reorganisation is loaded late: `gone` and `reported` ended with June 2025.
    for c in (gone, reported):
        await publish(producer, UNIT_UPSERTED, unit(c, valid_to="2025-06"), utc(SEPT_10))

    async def gone_stopped():
        rows = await stored(app, orm.obligations, (o.plan_id == plan.id) & (o.unit == gone) & (o.period > "2025-06"))
        return rows if rows and not any(r.expected for r in rows) else None

    await wait_until(gone_stopped, timeout=90, what="the retired unit's later obligations to stop")
    await wait_until(
        lambda: stored(app, orm.obligations, (o.plan_id == plan.id) & (o.unit == reported) & (o.period == "2025-08")
                       & ~o.expected),
        timeout=30, what="the other retired unit's August obligation to stop",
    )  # fmt: skip
    assert set(await compliance_of(app, mint, plan.id, "2025-06")) == {gone, reported, stays}  # history kept
    july = await compliance_of(app, mint, plan.id, "2025-07")
    assert set(july) == {reported, stays}  # the report that arrived stays on record
    assert set(await compliance_of(app, mint, plan.id, "2025-08")) == {stays}
    assert set(await compliance_of(app, mint, plan.id, "2025-09")) == {stays}

    # September's reminders, overdue notices and escalation fire: none names a retired unit.
    await tick(app.state.runtime.sessionmaker, now=utc("2025-09-30T10:00:00+07:00"))

    async def september_notices():
        events = [CloudEvent.from_bytes(r.value) for r in await read_topic(kafka.bootstrap, DEADLINES, since=since)]
        found = [e for e in events if e.data.get("plan_id") == plan.id and e.data.get("period") == "2025-09"]
        return found if any(e.type == "vn.baocao.escalation.raised.v1" for e in found) else None

    notices = await wait_until(september_notices, timeout=30, what="September's notices")
    named = {e.data["unit"] for e in notices if "unit" in e.data}
    named |= {m["unit"] for e in notices for m in e.data.get("missing_units", [])}
    assert named == {stays}


async def test_a_province_ended_by_a_late_catalogue_update_stops_owing_its_periods_after_it(deadlines, kafka):
    """The province's valid_to arrives after its later periods were opened (a merger loaded late): from the
    scheduler's next look at its plans, their obligations after it stop, closed ones too, unless a report arrived,
    and no reminder, overdue notice or escalation names a unit for them."""
    app, producer, mint = deadlines
    merged = "66"  # no other test's province: the app reads the shared broker
    reporter, silent = code("R"), code("S")
    province = HAI_DUONG.province.model_copy(update={"code": merged, "name": "Tỉnh Sáp Nhập"})
    plan = HAI_DUONG.plans[0].model_copy(
        update={"province": merged, "id": f"ended-{uuid.uuid4().hex[:8]}", "first_period": "2025-06",
                "units": [reporter, silent]}
    )  # fmt: skip
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    await publish(producer, PROVINCE_UPSERTED, province, utc(SEPT_10), province=merged)
    for c in (reporter, silent):
        await publish(producer, UNIT_UPSERTED, unit(c, merged), utc(SEPT_10), province=merged)
    await publish(producer, PLAN_UPSERTED, plan, utc(SEPT_10), province=merged)
    august = report(plan.id, reporter, "2025-08", "2025-08-10T09:00:00+07:00", merged)
    await publish(producer, SUBMISSION_RECEIVED, august, utc(SEPT_10), province=merged)
    o = orm.obligations.c
    await wait_until(lambda: stored(app, orm.plans, orm.plans.c.id == plan.id), timeout=90, what="the plan")
    await wait_until(lambda: _all(stored(app, orm.units, orm.units.c.code.in_([reporter, silent])), 2),
                     timeout=90, what="the units")  # fmt: skip
    await wait_until(lambda: stored(app, orm.obligations, o.plan_id == plan.id), timeout=90, what="the August report")
    await tick(app.state.runtime.sessionmaker, now=utc(SEPT_10))  # opens 2025-06 .. 2025-09, both units owe them
    assert set(await compliance_of(app, mint, plan.id, "2025-09", merged)) == {reporter, silent}

    # The merger is loaded late: the province ended with June 2025.
    await publish(producer, PROVINCE_UPSERTED, province.model_copy(update={"valid_to": "2025-06"}), utc(SEPT_10),
                  province=merged)  # fmt: skip
    p = orm.provinces.c
    await wait_until(
        lambda: stored(app, orm.provinces, (p.code == merged) & (p.doc["valid_to"].astext == "2025-06")),
        timeout=90, what="the province's end",
    )  # fmt: skip
    await tick(app.state.runtime.sessionmaker, now=utc(SEPT_10))  # the scheduler looks at the plan again

    rows = await stored(app, orm.obligations, o.plan_id == plan.id)
    assert {(r.period, r.unit) for r in rows if r.expected} == {
        ("2025-06", reporter), ("2025-06", silent),  # history kept
        ("2025-08", reporter),  # the report that arrived stays on record
    }  # fmt: skip
    assert {(r.period, r.unit) for r in rows if not r.expected} == {
        (period, u) for period in ("2025-07", "2025-08", "2025-09") for u in (reporter, silent)
    } - {("2025-08", reporter)}
    assert set(await compliance_of(app, mint, plan.id, "2025-06", merged)) == {reporter, silent}
    assert set(await compliance_of(app, mint, plan.id, "2025-08", merged)) == {reporter}
    assert await compliance_of(app, mint, plan.id, "2025-09", merged) == {}

    # September's reminders, overdue notices, escalation and close come due: none names a unit.
    await tick(app.state.runtime.sessionmaker, now=utc("2025-09-30T10:00:00+07:00"))

    async def september_closed():
        events = [CloudEvent.from_bytes(r.value) for r in await read_topic(kafka.bootstrap, DEADLINES, since=since)]
        found = [e for e in events if e.data.get("plan_id") == plan.id and e.data.get("period") == "2025-09"]
        return found if any(e.type == "vn.baocao.period.closed.v1" for e in found) else None

    notices = await wait_until(september_closed, timeout=30, what="September's close")
    assert [e.type for e in notices] == ["vn.baocao.period.closed.v1"]
    assert (notices[0].data["expected"], notices[0].data["units"]) == (0, [])
