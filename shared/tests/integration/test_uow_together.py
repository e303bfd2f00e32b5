"""A unit of work's `together()` block writes its audit rows and its events in one statement, as they would be
written one by one, and writes nothing when the block raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from baocao_shared.audit import audit_log_table
from baocao_shared.db import make_engine, new_metadata
from baocao_shared.events.submissions import SUBMISSION_RECEIVED
from baocao_shared.messaging.tables import outbox_table
from baocao_shared.uow import UnitOfWork
from baocao_testing.fixtures import create_database
from baocao_testing.samples import a_submission

pytestmark = pytest.mark.integration

_METADATA = new_metadata()


class TrailUnitOfWork(UnitOfWork):
    source = "/baocao/test"
    outbox_table = outbox_table(_METADATA)
    audit_table = audit_log_table(_METADATA)


AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def sessions(postgres):
    engine = make_engine(await create_database(postgres, "together"))
    async with engine.begin() as conn:
        await conn.run_sync(_METADATA.create_all)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    yield async_sessionmaker(engine, expire_on_commit=False), statements
    await engine.dispose()


async def record(uow: UnitOfWork, unit: str) -> None:
    details = {"unit": unit, "changes": {"figures": {}, "first": True}, "note": 'Hội nghị "44"'}
    await uow.audit(at=AT, actor="token:1", action="submission.received", subject=f"submission:{unit}", details=details)
    await uow.publish(SUBMISSION_RECEIVED, a_submission(unit=unit), province="30", at=AT)


async def stored(maker) -> tuple[list, list]:
    async with maker() as session:
        trail = TrailUnitOfWork.audit_table
        columns = (trail.c.at, trail.c.actor, trail.c.action, trail.c.subject, trail.c.details, trail.c.province)
        audit = (await session.execute(select(*columns).order_by(trail.c.id))).all()
        box = TrailUnitOfWork.outbox_table
        outbox = (await session.execute(select(box.c.topic, box.c.key, box.c.event_type).order_by(box.c.id))).all()
    return [tuple(r) for r in audit], [tuple(r) for r in outbox]


async def test_the_block_writes_what_one_by_one_writes_in_one_statement(sessions):
    maker, statements = sessions
    async with TrailUnitOfWork.begin(maker) as uow:
        await record(uow, "U1")
    one_by_one = await stored(maker)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(writes) == 2

    statements.clear()
    async with TrailUnitOfWork.begin(maker) as uow, uow.together():
        await record(uow, "U1")
    audit, outbox = await stored(maker)
    assert (audit[1:], outbox[1:]) == (one_by_one[0], one_by_one[1])
    assert len([s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]) == 1


async def test_a_block_that_raises_writes_nothing(sessions):
    maker, _ = sessions
    async with TrailUnitOfWork.begin(maker) as uow:
        with pytest.raises(ValueError):
            async with uow.together():
                await record(uow, "U2")
                raise ValueError("refused")
    assert await stored(maker) == ([], [])
