"""A submission that deadlines records while its scheduler opens the period must still count, on time.

Seen in the fault suite (tests/faults, the broker paused past the consumers' session timeout): one unit, the
first to submit, was accepted by intake and counted in consolidation's totals, yet never appeared in deadlines'
compliance, for good. Opening a period looked for obligations already there (a submission that came first),
found none, then inserted a row for every unit that had none. A submission committed between the look and the
insert was skipped by both: its row kept no deadline and was never owed, and the period, once opened, was not
looked at again.

Here the opening is held just before it reads the units (the test locks the table), the submission commits in
that moment, and the lock is released.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from baocao_shared.events.submissions import SubmissionV1
from baocao_shared.principal import Principal, Role
from deadlines.adapters import orm
from deadlines.adapters.uow import DeadlinesUnitOfWork
from deadlines.handlers import compliance, periods, submissions
from services.deadlines.tests.integration.apps import hai_duong_database

pytestmark = pytest.mark.integration
ICT = timezone(timedelta(hours=7))
OPENING_AT = datetime(2019, 6, 10, 9, tzinfo=ICT)
OPERATOR = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")


async def test_a_submission_recorded_while_the_period_opens_is_owed_and_on_time(postgres):
    async with hai_duong_database(postgres, units=["A", "B"], stored=["A", "B"]) as (sessions, plan):
        submitted_at = OPENING_AT + timedelta(minutes=1)
        submission = SubmissionV1(
            submission_id=uuid.uuid4(),
            province="30",
            unit="A",
            plan_id=plan.id,
            period="2019-06",
            version=1,
            values={},
            narratives={},
            received_at=submitted_at,
            first_received_at=submitted_at,
        )

        async with sessions() as holder:  # holds the opening where it first reads the units
            await holder.execute(text("LOCK TABLE units IN ACCESS EXCLUSIVE MODE"))

            async def open_period() -> None:
                async with DeadlinesUnitOfWork.begin(sessions) as uow:
                    await periods.open_due_periods(uow, now=OPENING_AT)

            opening = asyncio.create_task(open_period())
            await _waiting_for_a_lock(opening, sessions)
            async with DeadlinesUnitOfWork.begin(sessions) as uow:  # the submissions consumer, meanwhile
                await submissions.submission_recorded(uow, submission)
            await holder.rollback()
        await asyncio.wait_for(opening, 30)

        async with sessions() as session:
            row = (await session.execute(select(orm.obligations).where(orm.obligations.c.unit == "A"))).one()
        assert row.expected and row.due_at is not None, "unit A must owe the period it submitted for"
        async with DeadlinesUnitOfWork.begin(sessions) as uow:
            seen = await compliance.compliance(
                uow, principal=OPERATOR, province="30", plan_id=plan.id, period="2019-06", now=submitted_at
            )
        statuses = {unit["unit"]: unit["status"] for unit in seen["units"]}
        assert statuses == {"A": "on_time", "B": "pending"}


async def _waiting_for_a_lock(task: asyncio.Task, sessions, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        assert not task.done(), f"the opening did not wait for the units: {task.exception() or 'it finished'}"
        async with sessions() as session:
            if await session.scalar(waiting):
                return
        assert time.monotonic() < deadline, "the opening never reached the units"
        await asyncio.sleep(0.05)
