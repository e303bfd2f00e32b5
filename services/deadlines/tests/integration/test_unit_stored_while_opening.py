"""A unit that deadlines stores while its scheduler is opening a period must still owe that period's report.

Found by the e2e benchmark (bench/province.py): loading a province of a few hundred units in one PUT, a
plan's compliance listed one unit fewer than the province had, for good. The tick reads the plans that
changed, inserts an obligation per unit it sees, then sets `plans.changed = false`; a unit committed in
between (its handler sets `changed = true` on a row the tick has not locked) has its flag overwritten, so no
later tick looks again. Here the unit's transaction commits (or waits for a lock) at exactly that moment: unit B,
known but not active when the opening starts (a plan waits for all its units to be known), becomes active.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import catalog, periods
from services.deadlines.tests.integration.apps import hai_duong_database, unit

pytestmark = pytest.mark.integration
OPENING_AT = datetime(2019, 6, 10, 9, tzinfo=timezone(timedelta(hours=7)))


async def test_a_unit_stored_during_the_opening_owes_the_period(postgres, monkeypatch):
    async with hai_duong_database(postgres, units=["A", "B"], stored=["A"]) as (sessions, _):
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            await catalog.unit_upserted(uow, unit("B").model_copy(update={"active": False}))

        async def store_unit_b() -> None:  # the catalogue consumer, in its own transaction
            async with DeadlinesUnitOfWork.begin(sessions) as uow:
                await catalog.unit_upserted(uow, unit("B"))

        arrived: list[asyncio.Task] = []
        ensure_schedule = periods._ensure_schedule

        async def unit_b_arrives_meanwhile(*args, **kwargs):
            task = asyncio.create_task(store_unit_b())
            arrived.append(task)
            await _committed_or_waiting_for_a_lock(task, sessions)
            return await ensure_schedule(*args, **kwargs)

        monkeypatch.setattr(periods, "_ensure_schedule", unit_b_arrives_meanwhile)
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            await periods.open_due_periods(uow, now=OPENING_AT)
        await asyncio.wait_for(arrived[0], 30)
        monkeypatch.setattr(periods, "_ensure_schedule", ensure_schedule)

        async with DeadlinesUnitOfWork.begin(sessions) as uow:  # the next tick
            await periods.open_due_periods(uow, now=OPENING_AT)
        async with sessions() as session:
            owing = (
                await session.execute(select(orm.obligations.c.unit).where(orm.obligations.c.period == "2019-06"))
            ).scalars()
            assert sorted(owing) == ["A", "B"]


async def _committed_or_waiting_for_a_lock(task: asyncio.Task, sessions, timeout: float = 30) -> None:
    """Until the unit's transaction committed, or waits for a row the opening holds (a fixed tick must lock)."""
    deadline = time.monotonic() + timeout
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while not task.done():
        async with sessions() as session:
            if await session.scalar(waiting):
                return
        assert time.monotonic() < deadline, "the unit's transaction neither committed nor waited for a lock"
        await asyncio.sleep(0.05)
    task.result()
