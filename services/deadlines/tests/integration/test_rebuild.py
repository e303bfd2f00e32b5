"""`python -m deadlines.rebuild` on the real broker and database: a month driven through the live service (the
catalogue, submissions on time, late and never, reminder rounds, overdue notices, the escalation, an operator's
nudge, the close, the national level's notices and close), then rebuilt from the same topics into a fresh
database. Every table equals the live one, and the service started on the rebuilt database sends nothing again.

The test has a broker of its own (`own_kafka`): a rebuild reads the topics from their beginning, and the
session's broker holds every other test's records too."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from baocao_shared.clock import write_clock_file
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import DEADLINES
from baocao_shared.messaging.rebuild import NotEmpty
from baocao_testing.fixtures import create_database
from baocao_testing.kit import TokenMint, end_offsets, wait_until
from baocao_testing.rebuilt import differences, table_rows
from deadlines.adapters import orm
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from deadlines.rebuild import rebuild
from services.deadlines.tests.integration.apps import HAI_DUONG, publish, settings_for, utc

pytestmark = pytest.mark.integration
UNITS = ["CA", "BTG", "SNGV", "STP", "STTTT"]
PLAN = HAI_DUONG.plans[0].model_copy(update={"units": UNITS})
DAYS = [f"2019-06-{day:02d}T08:00:00+07:00" for day in range(10, 31)]  # the scheduler's ticks, one a morning


def submission(unit: str, received: str, *, version: int = 1, first: str | None = None, sid=None) -> SubmissionV1:
    return SubmissionV1(
        submission_id=sid or uuid.uuid4(), province="30", unit=unit, plan_id=PLAN.id, period="2019-06",
        version=version, values={"t1_sessions": version}, narratives={}, received_at=utc(received),
        first_received_at=utc(first or received),
    )  # fmt: skip


def queries(group: str) -> dict[str, str]:
    """Every derived table, all rows and columns but these, which no event carries:
    - `periods.opened_at`: the instant the scheduler first looked at the period (a tick's, or the rebuild's);
    - `scheduled_items.id`: a serial row id;
    - of a schedule row that sent nothing (no notice, not a close), whether it `fired` empty or was `skipped` at
      opening, and when: both mean "done, nothing sent", and which of the two depends on when the scheduler first
      looked at its period; a row that sent something keeps its state and instant, compared;
    - the inbox's `processed_at` (the clock of the insert), and its rows of the rebuild's own group (what it read
      back from baocao.deadlines), which the live service never consumes."""
    said = (
        "kind = 'close' OR EXISTS (SELECT 1 FROM notices n WHERE n.province = i.province AND n.plan_id = i.plan_id"
        " AND n.period = i.period AND n.kind = i.kind AND n.sequence = i.sequence)"
    )
    return {
        "provinces": "SELECT * FROM provinces",
        "units": "SELECT * FROM units",
        "plans": "SELECT * FROM plans",
        "periods": "SELECT province, plan_id, period, due_at, closed_at FROM periods",
        "obligations": "SELECT * FROM obligations",
        "province_obligations": "SELECT * FROM province_obligations",
        "scheduled_items": (
            "SELECT province, plan_id, period, kind, sequence, day_offset, fire_at,"
            f" CASE WHEN state = 'pending' THEN 'pending' WHEN {said} THEN state ELSE 'done' END AS state,"
            f" CASE WHEN {said} THEN fired_at END AS fired_at FROM scheduled_items i"
        ),
        "notices": "SELECT * FROM notices",
        "inbox": f"SELECT consumer_group, event_id, event_type FROM inbox WHERE consumer_group = '{group}'",
    }


async def count(app, query) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return await session.scalar(query)


async def test_a_month_rebuilt_from_the_topics_equals_the_live_state_and_fires_nothing_again(
    own_kafka, postgres, tmp_path
):
    kafka, mint, clock = own_kafka, TokenMint(), tmp_path / "clock"
    write_clock_file(clock, utc(DAYS[0]))
    settings = await settings_for(postgres, kafka, clock="file", clock_file=clock)
    live = create_app(settings, verifier=mint.verifier())
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    o = orm.obligations.c

    async def at(instant: str) -> None:
        write_clock_file(clock, utc(instant))
        await tick(live.state.runtime.sessionmaker, now=utc(instant))

    async def sent(s: SubmissionV1) -> None:
        await publish(producer, SUBMISSION_AMENDED if s.version > 1 else SUBMISSION_RECEIVED, s, s.received_at)
        version = select(o.last_version).where(o.plan_id == PLAN.id, o.period == "2019-06", o.unit == s.unit)
        await wait_until(lambda: _at_least(live, version, s.version), timeout=30, what=f"{s.unit}'s submission")

    try:
        async with live.router.lifespan_context(live):
            start = utc("2019-06-01T00:00:00+07:00")
            await publish(producer, PROVINCE_UPSERTED, HAI_DUONG.province, start)
            for unit in HAI_DUONG.units:
                await publish(producer, UNIT_UPSERTED, unit, start)
            await publish(producer, PLAN_UPSERTED, PLAN, start)
            units = select(func.count()).select_from(orm.units).where(orm.units.c.code.in_(UNITS))
            plan = select(func.count()).select_from(orm.plans).where(orm.plans.c.id == PLAN.id)
            await wait_until(lambda: _all(live, [(units, len(UNITS)), (plan, 1)]), timeout=30, what="the catalogue")
            first_ca = uuid.uuid4()
            arrivals = {
                "2019-06-11": submission("CA", "2019-06-11T09:00:00+07:00", sid=first_ca),
                "2019-06-13": submission("BTG", "2019-06-13T10:00:00+07:00"),
                "2019-06-15": submission("STTTT", "2019-06-15T23:59:59+07:00"),
                "2019-06-17": submission("SNGV", "2019-06-17T09:30:00+07:00"),  # late
                "2019-06-21": submission(
                    "CA", "2019-06-21T10:00:00+07:00", version=2, first="2019-06-11T09:00:00+07:00", sid=first_ca
                ),  # amended after due_at
            }
            for day in DAYS:
                await at(day)
                if day.startswith("2019-06-13"):  # the office urges STP by hand (đôn đốc)
                    async with httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=live), base_url="http://deadlines.test"
                    ) as client:
                        nudged = await client.post(
                            "/v1/nudges",
                            json={
                                "province": "30",
                                "period": "2019-06",
                                "units": ["STP"],
                                "plan_id": PLAN.id,
                                "message": "Đề nghị gửi báo cáo.",
                            },
                            headers=mint.headers("province_operator", "30"),
                        )
                    assert nudged.status_code == 202, nudged.text
                if (arrival := arrivals.get(day[:10])) is not None:
                    await sent(arrival)
            unsent = select(func.count()).select_from(orm.outbox).where(orm.outbox.c.sent_at.is_(None))
            await wait_until(lambda: _all(live, [(unsent, 0)]), timeout=30, what="the relay to send every notice")
    finally:
        await producer.stop()

    group = f"{settings.consumer_group_prefix}deadlines"
    live_rows = await table_rows(settings.database_url, queries(group))
    kinds = {(r["kind"], r["unit"]) for r in live_rows["notices"]}
    assert {("reminder", "STP"), ("overdue", "STP"), ("nudge", "STP"), ("province_reminder", "30")} <= kinds
    assert any(r["closed_at"] for r in live_rows["periods"]) and live_rows["province_obligations"][0]["closed_at"]
    before = await end_offsets(kafka.bootstrap, DEADLINES)

    last = utc(DAYS[-1])
    rebuilt_url = await create_database(postgres, "deadlines")
    done = await rebuild(settings, into=rebuilt_url, now=last)
    assert done.due_unsent == 0 and done.replays["fired"].applied > 0
    rebuilt_rows = await table_rows(rebuilt_url, queries(group))
    assert differences(live_rows, rebuilt_rows) == {}
    outbox = {"outbox": "SELECT event_type FROM outbox"}
    assert (await table_rows(rebuilt_url, outbox))["outbox"] == [], "no replayed fact waits to be sent again"
    print(
        f"\nrebuild: {done.records} records replayed ({done.replays['inputs'].records} inputs, "
        f"{done.replays['fired'].records} of baocao.deadlines), {len(rebuilt_rows)} tables, "
        f"{sum(map(len, rebuilt_rows.values()))} rows compared, {done.seconds:.1f}s"
    )

    # Twice: refused into a database that holds rows, the same state again with --reset.
    with pytest.raises(NotEmpty):
        await rebuild(settings, into=rebuilt_url, now=last)
    await rebuild(settings, into=rebuilt_url, now=last, reset=True)
    assert differences(live_rows, await table_rows(rebuilt_url, queries(group))) == {}

    # The service on the rebuilt database: its scheduler, at the same instant and a day on, sends nothing again.
    again = create_app(settings.model_copy(update={"database_url": rebuilt_url}), verifier=mint.verifier())
    async with again.router.lifespan_context(again):
        for instant in (last, last + timedelta(hours=12)):
            assert await tick(again.state.runtime.sessionmaker, now=instant) == 0
        nothing = select(func.count()).select_from(orm.outbox)
        assert await count(again, nothing) == 0
    assert await end_offsets(kafka.bootstrap, DEADLINES) == before, "no new record on baocao.deadlines"


async def _at_least(app, query, value: int) -> bool:
    return (await count(app, query) or 0) >= value


async def _all(app, checks) -> bool:
    return all([await count(app, q) == want for q, want in checks])
