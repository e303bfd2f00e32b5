"""A run of submissions applied together (a consumer's fetched batch) leaves what applying them one by one
leaves: the same obligations, and the same obligation.updated events in the outbox, each unit's announced once,
as its first submission of the run left it, at that submission's time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from baocao_shared.db import make_engine, make_sessionmaker, upgrade_database
from baocao_shared.events.catalog import UnitV1
from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from baocao_shared.events.submissions import SubmissionV1
from baocao_testing.fixtures import create_database
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog
from deadlines.handlers.scheduler import tick
from deadlines.handlers.submissions import submission_recorded, submissions_recorded
from deadlines.main import MIGRATIONS
from intake.domain.catalog import parse_province_file

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
OPENS = "2019-06-10T10:00:00+07:00"  # period 2019-06 opens; due 16 June; 2019-07 is not opened yet
UNITS = ["A", "B", "C", "D", "E", "F"]
SIDS = {code: uuid.uuid4() for code in UNITS}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def sent(code: str, day: int, *, version: int = 1, first: int | None = None, plan: str = "kh-0", **rest):
    """Unit `code`'s submission received on `day` of June 2019, for June (or `period`) of `plan`."""
    period = rest.pop("period", "2019-06")
    return SubmissionV1(
        submission_id=SIDS[code],
        province="30",
        unit=code,
        plan_id=plan,
        period=period,
        version=version,
        values={"t1_sessions": version},
        narratives={},
        received_at=utc(f"2019-06-{day:02d}T09:00:00+07:00"),
        first_received_at=utc(f"2019-06-{(first or day):02d}T09:00:00+07:00"),
        **rest,
    )


BEFORE = [sent("F", 11)]  # F is recorded and announced before the run
RUN = [
    sent("A", 12),
    sent("A", 17, version=2, first=12),  # amended after the deadline, in the same run as its first
    sent("B", 17, version=2, first=11),  # an amendment that comes before its first version
    sent("B", 11),
    sent("C", 17, plan="kh-1"),  # late, in another plan
    sent("A", 13, plan="kh-1"),  # the same unit in the other plan
    sent("D", 12, imported=True),  # imported for history: not recorded
    sent("E", 12, period="2019-07"),  # a period not opened here yet: recorded, announced when it opens
    sent("F", 13, version=2, first=11),  # already announced: nothing more to say
]


async def deadlines_database(postgres) -> tuple:
    url = await create_database(postgres, "dlbatch")
    await upgrade_database(MIGRATIONS, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with DeadlinesUnitOfWork.begin(sessions) as uow:
        await catalog.province_upserted(uow, HAI_DUONG.province)
        for code in UNITS:
            await catalog.unit_upserted(uow, UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member"))
        for n in range(2):
            plan = HAI_DUONG.plans[0].model_copy(update={"units": UNITS, "id": f"kh-{n}"})
            await catalog.plan_upserted(uow, plan)
    await tick(sessions, now=utc(OPENS))
    for s in BEFORE:
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            await submission_recorded(uow, s)
    return engine, sessions


async def state(sessions) -> tuple[list[dict], list[dict]]:
    """Every obligation with what arrived, and the obligation.updated events written since (without their ids)."""
    o, box = orm.obligations, orm.outbox
    async with sessions() as session:
        rows = [dict(r._mapping) for r in await session.execute(select(o).order_by(o.c.plan_id, o.c.period, o.c.unit))]
        payloads = await session.scalars(
            select(box.c.payload).where(box.c.event_type == OBLIGATION_UPDATED.type).order_by(box.c.id)
        )
        events = [{k: v for k, v in p.items() if k != "id"} for p in payloads]
    return rows, events


async def test_a_run_applied_together_leaves_what_one_by_one_leaves(postgres):
    one_engine, one_by_one = await deadlines_database(postgres)
    run_engine, together = await deadlines_database(postgres)
    try:
        before = (await state(together))[1]
        for s in RUN:
            async with DeadlinesUnitOfWork.begin(one_by_one) as uow:
                await submission_recorded(uow, s)
        async with DeadlinesUnitOfWork.begin(together) as uow:
            await submissions_recorded(uow, RUN)

        expected, got = await state(one_by_one), await state(together)
        assert got[0] == expected[0], "the obligations differ"
        assert got[1] == expected[1], "the announcements differ"

        rows = {(r["plan_id"], r["period"], r["unit"]): r for r in got[0]}
        announced = [(e["data"]["plan_id"], e["data"]["unit"], e["data"]["amended_after_due"]) for e in got[1]]
        assert announced[len(before) :] == [("kh-0", "A", False), ("kh-0", "B", True), ("kh-1", "C", False),
                                            ("kh-1", "A", False)]  # fmt: skip
        assert [e["time"] for e in got[1][len(before) :]] == [
            utc(f"2019-06-{day}T09:00:00+07:00").isoformat().replace("+00:00", "Z") for day in (12, 17, 17, 13)
        ]
        assert rows["kh-0", "2019-06", "A"]["amended_after_due"] and rows["kh-0", "2019-06", "A"]["last_version"] == 2
        assert rows["kh-0", "2019-06", "B"]["first_submitted_at"] == utc("2019-06-11T09:00:00+07:00")
        assert ("kh-0", "2019-06", "D") in rows and rows["kh-0", "2019-06", "D"]["first_submitted_at"] is None
        assert rows["kh-0", "2019-07", "E"]["due_at"] is None and rows["kh-0", "2019-07", "E"]["announced_at"] is None
        f = rows["kh-0", "2019-06", "F"]
        assert f["last_version"] == 2 and not f["amended_after_due"]
    finally:
        await one_engine.dispose()
        await run_engine.dispose()
