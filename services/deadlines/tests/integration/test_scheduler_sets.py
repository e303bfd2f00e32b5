"""The scheduler's set-based work, on real PostgreSQL: who owes a period as the plan and its units change,
and a reminder round written in one statement per period that still notices each unit exactly once.

Drives deadlines' own handlers (catalogue, submissions, tick) on a fresh database; no Kafka is needed,
the events are read from the outbox the tick writes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.catalog import UnitV1
from baocao_shared.events.deadlines import OBLIGATION_UPDATED, REMINDER_DUE
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.fixtures import create_database
from baocao_testing.kit import wait_until
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.handlers.submissions import submission_recorded
from deadlines.main import MIGRATIONS
from intake.domain.catalog import parse_province_file

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
OPENS = "2019-06-10T10:00:00+07:00"  # period 2019-06 runs 15 May .. 14 June, due 16 June
FIRST_REMINDER = "2019-06-12T08:00:00+07:00"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
async def sessionmaker(postgres):
    url = await create_database(postgres, "dlsets")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def load(sessionmaker, units: list[UnitV1], plan_units: list[str], *, plans: int = 1):
    """The province, its units, and `plans` plans over `plan_units` (ids kh-0, kh-1, ...); returns the first."""
    found = [HAI_DUONG.plans[0].model_copy(update={"units": plan_units, "id": f"kh-{n}"}) for n in range(plans)]
    async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
        await catalog.province_upserted(uow, HAI_DUONG.province)
        for unit in units:
            await catalog.unit_upserted(uow, unit)
        for plan in found:
            await catalog.plan_upserted(uow, plan)
    return found[0]


async def owing(sessionmaker) -> dict[str, bool]:
    o = orm.obligations.c
    async with sessionmaker() as session:
        rows = await session.execute(select(o.unit, o.expected).where(o.period == "2019-06"))
    return dict(rows.all())


def unit(code: str, **changes) -> UnitV1:
    return UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member", **changes)


def submission(plan_id: str, code: str, received: str) -> SubmissionV1:
    return SubmissionV1(
        submission_id=uuid.uuid4(),
        province="30",
        unit=code,
        plan_id=plan_id,
        period="2019-06",
        version=1,
        values={"t1_sessions": 1},
        narratives={},
        received_at=utc(received),
        first_received_at=utc(received),
    )


async def test_who_owes_follows_the_plan_and_its_units_while_the_period_is_open(sessionmaker):
    units = [
        unit("CA"),
        unit("BTG"),
        unit("STP"),
        unit("SNGV"),
        unit("OLD", active=False),  # retired before the period opened
        unit("NEW", active_from="2019-07-01"),  # owes from a later window
        unit("OUT"),  # not in the plan
    ]
    plan = await load(sessionmaker, units, ["CA", "BTG", "STP", "SNGV", "OLD", "NEW"])
    await tick(sessionmaker, now=utc(OPENS))
    assert await owing(sessionmaker) == {"CA": True, "BTG": True, "STP": True, "SNGV": True}

    # While the period is open, STP leaves the plan and SNGV retires: neither owes it any more.
    async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
        await catalog.plan_upserted(uow, plan.model_copy(update={"units": ["CA", "BTG", "SNGV", "OLD", "NEW"]}))
        await catalog.unit_upserted(uow, unit("SNGV", active=False))
    await tick(sessionmaker, now=utc("2019-06-11T10:00:00+07:00"))
    assert await owing(sessionmaker) == {"CA": True, "BTG": True, "STP": False, "SNGV": False}

    # STP comes back to the plan: it owes the period again, the retired SNGV still does not.
    async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
        await catalog.plan_upserted(uow, plan)
    await tick(sessionmaker, now=utc("2019-06-11T11:00:00+07:00"))
    assert await owing(sessionmaker) == {"CA": True, "BTG": True, "STP": True, "SNGV": False}


async def test_a_reminder_round_notices_every_waiting_unit_once_even_when_its_row_fires_again(sessionmaker):
    """Three plans fall due at once (fired side by side); a fourth of one plan's units has reported."""
    units = [unit(f"DV-{n:03d}") for n in range(240)]
    plan = await load(sessionmaker, units, [u.code for u in units], plans=3)
    await tick(sessionmaker, now=utc(OPENS))
    submitted = {u.code for u in units[::6]}  # 40 units report before the first reminder
    for code in sorted(submitted):
        async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:
            await submission_recorded(uow, submission(plan.id, code, "2019-06-11T09:00:00+07:00"))

    async def reminders(plan_id: str | None = None) -> list[dict]:
        async with sessionmaker() as session:
            rows = await session.scalars(
                select(orm.outbox.c.payload).where(orm.outbox.c.event_type == REMINDER_DUE.type)
            )
            return [p["data"] for p in rows if plan_id is None or p["data"]["plan_id"] == plan_id]

    assert await tick(sessionmaker, now=utc(FIRST_REMINDER)) == 3
    sent = await reminders(plan.id)
    waiting = {u.code for u in units} - submitted
    assert sorted(d["unit"] for d in sent) == sorted(waiting), "each waiting unit once, none that reported"
    for other in ("kh-1", "kh-2"):
        assert sorted(d["unit"] for d in await reminders(other)) == sorted(u.code for u in units)
    by_unit = {d["unit"]: d for d in sent}
    assert by_unit["DV-001"]["unit_name"] == "Đơn vị DV-001"
    assert {(d["kind"], d["sequence"], d["day_offset"], d["fire_at"]) for d in sent} == {
        ("reminder", 0, -3, "2019-06-12T01:00:00Z")
    }
    async with sessionmaker() as session:
        noticed = set(
            await session.scalars(
                select(orm.notices.c.unit).where(orm.notices.c.kind == "reminder", orm.notices.c.plan_id == plan.id)
            )
        )
    assert noticed == waiting

    # The same schedule row fires again (as after a replay): its notices are taken, nothing is sent twice.
    s = orm.scheduled_items.c
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(orm.scheduled_items).where(s.kind == "reminder", s.sequence == 0).values(state="pending")
        )
    assert await tick(sessionmaker, now=utc("2019-06-12T08:05:00+07:00")) == 3
    assert len(await reminders()) == len(waiting) + 2 * len(units)


async def test_submissions_that_come_before_or_while_their_period_opens_are_kept_owed_and_announced(sessionmaker):
    """The opening writes new obligations with a plain insert; a submission's row that appears meanwhile
    makes that insert fail, and the opening then upserts instead: nothing is lost, nothing fails."""
    units = [unit("CA"), unit("BTG"), unit("STP")]
    plan = await load(sessionmaker, units, [u.code for u in units])
    async with DeadlinesUnitOfWork.begin(sessionmaker) as uow:  # BTG reports before the period is opened
        await submission_recorded(uow, submission(plan.id, "BTG", "2019-06-09T09:00:00+07:00"))

    async with sessionmaker() as racer:  # STP's submission is being recorded while the period opens
        await racer.begin()
        await submission_recorded(DeadlinesUnitOfWork(racer), submission(plan.id, "STP", "2019-06-10T09:59:00+07:00"))
        opening = asyncio.create_task(tick(sessionmaker, now=utc(OPENS)))

        async def opening_waits_for_stp() -> bool:
            async with sessionmaker() as session:
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(text("pg_stat_activity"))
                    .where(text("datname = current_database() AND wait_event_type = 'Lock'"))
                )
            return waiting > 0

        await wait_until(opening_waits_for_stp, timeout=30, what="the opening to wait on STP's new row")
        await racer.commit()
    await asyncio.wait_for(opening, timeout=60)

    o = orm.obligations.c
    async with sessionmaker() as session:
        rows = {r.unit: r for r in await session.execute(select(orm.obligations).where(o.period == "2019-06"))}
        announced = await session.scalars(
            select(orm.outbox.c.payload).where(orm.outbox.c.event_type == OBLIGATION_UPDATED.type)
        )
        announced = sorted((p["data"]["unit"], p["data"]["status"]) for p in announced)
    assert {u: (r.expected, r.due_at) for u, r in rows.items()} == {
        u: (True, utc("2019-06-16T00:00:00+07:00")) for u in ("CA", "BTG", "STP")
    }
    assert rows["STP"].first_submitted_at == utc("2019-06-10T09:59:00+07:00")
    assert rows["BTG"].first_submitted_at == utc("2019-06-09T09:00:00+07:00")
    assert rows["CA"].first_submitted_at is None
    assert announced == [("BTG", "on_time"), ("STP", "on_time")], "each early submission announced once"
