"""A reporting month driven through deadlines on real Kafka and PostgreSQL, with two instances running.

Catalogue and submission events arrive on the real topics, as intake would publish them; the test
moves the clock by calling each instance's scheduler tick at chosen instants, both at once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from baocao_shared.events import CloudEvent
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import DEADLINES
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from deadlines.adapters import orm
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.integration.apps import publish, settings_for, utc

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
UNITS = ["CA", "BTG", "SNGV", "STP", "STTTT"]  # A on time early, B after reminder 0, C late, D never, E at 23:59:59
ADDED = "SYT"  # joins the plan on 12 June, after the first reminder, and never reports
# Other tests share the broker and publish plan 467 for province 30 too: this month runs on its own plan id.
PLAN = HAI_DUONG.plans[0].model_copy(update={"units": UNITS, "id": f"month-{uuid.uuid4().hex[:8]}"})


def submission(unit: str, received: str, *, version: int = 1, first: str | None = None, sid=None) -> SubmissionV1:
    return SubmissionV1(
        submission_id=sid or uuid.uuid4(),
        province="30",
        unit=unit,
        plan_id=PLAN.id,
        period="2019-06",
        version=version,
        values={"t1_sessions": version},
        narratives={},
        received_at=utc(received),
        first_received_at=utc(first or received),
    )


@pytest.fixture
async def two_instances(postgres, kafka):
    url = await create_database(postgres, "deadlines")
    mint = TokenMint()
    settings = await settings_for(postgres, kafka, database_url=url)
    apps = [create_app(settings, verifier=mint.verifier()) for _ in range(2)]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        yield apps, mint


async def obligations(app) -> dict[str, object]:
    async with app.state.runtime.sessionmaker() as session:
        o = orm.obligations.c
        rows = await session.execute(select(orm.obligations).where(o.plan_id == PLAN.id, o.period == "2019-06"))
        return {r.unit: r for r in rows}


async def test_a_month_of_reminders_overdue_notices_escalation_and_close(two_instances, kafka):
    apps, mint = two_instances
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def at(instant: str) -> None:
        """Both instances tick at the same simulated instant."""
        await asyncio.gather(*[tick(app.state.runtime.sessionmaker, now=utc(instant)) for app in apps])

    async def sent(*subs: SubmissionV1) -> None:
        for s in subs:
            await publish(producer, SUBMISSION_AMENDED if s.version > 1 else SUBMISSION_RECEIVED, s, s.received_at)

        async def applied():
            found = await obligations(apps[0])
            return all(found.get(s.unit) is not None and found[s.unit].last_version >= s.version for s in subs)

        await wait_until(applied, timeout=30, what="submissions to reach deadlines")

    try:
        await publish(producer, PROVINCE_UPSERTED, HAI_DUONG.province, utc("2019-06-01T00:00:00+07:00"))
        for unit in HAI_DUONG.units:
            await publish(producer, UNIT_UPSERTED, unit, utc("2019-06-01T00:00:00+07:00"))
        await publish(producer, PLAN_UPSERTED, PLAN, utc("2019-06-01T00:00:00+07:00"))

        async def plan_lists(units: list[str]) -> None:
            async def known():
                async with apps[0].state.runtime.sessionmaker() as session:
                    found = await session.scalar(select(orm.plans.c.doc["units"]).where(orm.plans.c.id == PLAN.id))
                return found == units

            await wait_until(known, timeout=30, what=f"the plan with units {units} to reach deadlines")

        await plan_lists(UNITS)

        async def units_known():
            async with apps[0].state.runtime.sessionmaker() as session:
                found = await session.scalar(
                    select(func.count())
                    .select_from(orm.units)
                    .where(orm.units.c.province == "30", orm.units.c.code.in_(UNITS), orm.units.c.active)
                )
            return found == len(UNITS)

        await wait_until(units_known, timeout=30, what="the plan's units to reach deadlines")

        await at("2019-06-10T10:00:00+07:00")  # opens 2019-06
        assert sorted(await obligations(apps[0])) == sorted(UNITS)
        d_first = uuid.uuid4()
        await sent(submission("CA", "2019-06-11T09:00:00+07:00"))
        await at("2019-06-12T08:00:00+07:00")  # reminder 0
        await publish(
            producer,
            UNIT_UPSERTED,
            UnitV1(province="30", code=ADDED, name="Sở Y tế", kind="member"),
            utc("2019-06-12T09:00:00+07:00"),
        )
        await publish(
            producer,
            PLAN_UPSERTED,
            PLAN.model_copy(update={"units": [*UNITS, ADDED]}),
            utc("2019-06-12T09:00:00+07:00"),
        )
        await plan_lists([*UNITS, ADDED])
        await sent(submission("BTG", "2019-06-13T10:00:00+07:00"))
        await at("2019-06-13T12:00:00+07:00")  # SYT now owes 2019-06
        assert ADDED in await obligations(apps[0])
        await at("2019-06-14T08:00:00+07:00")  # reminder 1
        await at("2019-06-15T08:00:00+07:00")  # reminder 2
        await sent(submission("STTTT", "2019-06-15T23:59:59+07:00"))
        await at("2019-06-16T08:00:00+07:00")  # overdue 0 and the escalation
        await sent(submission("SNGV", "2019-06-17T09:30:00+07:00"))  # late
        await at("2019-06-18T08:00:00+07:00")  # overdue 1
        await at("2019-06-20T08:00:00+07:00")  # overdue 2
        await sent(
            submission("CA", "2019-06-21T10:00:00+07:00", version=2, first="2019-06-11T09:00:00+07:00", sid=d_first)
        )  # an amendment after due_at: flagged, still on time
        await at("2019-06-25T00:00:00+07:00")  # close
        await at("2019-06-26T00:00:00+07:00")  # nothing is left to fire
    finally:
        await producer.stop()

    async def all_events():
        records = await read_topic(kafka.bootstrap, DEADLINES, since=since)
        events = [e for e in (CloudEvent.from_bytes(r.value) for r in records) if e.data.get("plan_id") == PLAN.id]
        return events if any(e.type.endswith("period.closed.v1") for e in events) else None

    events = await wait_until(all_events, timeout=30, what="the close to be published")
    notices = sorted(
        (e.data["kind"], e.data["sequence"], e.data["fire_at"], e.data["unit"])
        for e in events
        if e.type in ("vn.baocao.reminder.due.v1", "vn.baocao.deadline.missed.v1")
    )
    expected = []
    for kind, seq, instant, units in [
        ("reminder", 0, "2019-06-12T01:00:00Z", ["BTG", "SNGV", "STP", "STTTT"]),
        ("reminder", 1, "2019-06-14T01:00:00Z", ["SNGV", "STP", "STTTT", "SYT"]),
        ("reminder", 2, "2019-06-15T01:00:00Z", ["SNGV", "STP", "STTTT", "SYT"]),
        ("overdue", 0, "2019-06-16T01:00:00Z", ["SNGV", "STP", "SYT"]),
        ("overdue", 1, "2019-06-18T01:00:00Z", ["STP", "SYT"]),
        ("overdue", 2, "2019-06-20T01:00:00Z", ["STP", "SYT"]),
    ]:
        expected += [(kind, seq, instant, unit) for unit in units]
    assert notices == sorted(expected), "each notice once, to exactly the units that qualify, at its instant"

    [escalation] = [e.data for e in events if e.type == "vn.baocao.escalation.raised.v1"]
    assert escalation["fire_at"] == "2019-06-16T01:00:00Z"
    assert [u["unit"] for u in escalation["missing_units"]] == ["SNGV", "STP", "SYT"]

    [closed] = [e.data for e in events if e.type == "vn.baocao.period.closed.v1"]
    assert closed["closed_at"] == "2019-06-24T17:00:00Z"
    assert (closed["expected"], closed["on_time"], closed["late"], closed["missing"]) == (6, 3, 1, 2)
    by_unit = {u["unit"]: u for u in closed["units"]}
    assert by_unit["SNGV"]["late_by_s"] == 33 * 3600 + 30 * 60
    assert by_unit["STTTT"]["status"] == "on_time" and by_unit["CA"]["amended_after_due"] is True

    # Per unit, the notices came out in firing order (one key, one partition, one order).
    for unit in ["STP", "SYT"]:
        mine = [e.data["fire_at"] for e in events if e.subject == f"30/{unit}/2019-06" and "fire_at" in e.data]
        assert mine == sorted(mine)

    # The compliance API agrees with a hand-computed table.
    transport = httpx.ASGITransport(app=apps[1])
    async with httpx.AsyncClient(transport=transport, base_url="http://deadlines.test") as client:
        answer = await client.get(
            "/v1/compliance",
            params={"province": "30", "period": "2019-06", "plan_id": PLAN.id},
            headers=mint.headers("province_operator", "30"),
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["due_at"] == "2019-06-15T17:00:00Z"
    assert body["summary"] == {
        "expected": 6,
        "on_time": 3,
        "late": 1,
        "missing": 2,
        "pending": 0,
        "reporting_rate": 0.6667,
        "on_time_rate": 0.5,
    }
    table = {u["unit"]: (u["status"], u["late_by_s"]) for u in body["units"]}
    assert table == {
        "CA": ("on_time", None),
        "BTG": ("on_time", None),
        "STTTT": ("on_time", None),
        "SNGV": ("late", 120600),
        "STP": ("missing", None),
        "SYT": ("missing", None),
    }
    assert timedelta(seconds=120600) == utc("2019-06-17T09:30:00+07:00") - utc("2019-06-16T00:00:00+07:00")
