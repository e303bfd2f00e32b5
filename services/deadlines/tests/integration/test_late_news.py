"""News that reaches deadlines late: a report seen before its period is opened, or after the close.

Both are announced once (obligation.updated), the second one marked closed, so that consolidation's
discipline section agrees with the compliance figures.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, UnitV1
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_shared.events.topics import DEADLINES
from baocao_testing.kit import end_offsets, read_topic, wait_until
from deadlines.adapters import orm
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app
from intake.domain.catalog import parse_province_file
from services.deadlines.tests.integration.apps import settings_for

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_reports_seen_before_the_opening_or_after_the_close_are_announced_once(postgres, kafka):
    early, late = (f"N{uuid.uuid4().hex[:6].upper()}" for _ in range(2))
    plan = HAI_DUONG.plans[0].model_copy(update={"id": f"news-{uuid.uuid4().hex[:8]}", "units": [early, late]})
    app = create_app(await settings_for(postgres, kafka))
    since = await end_offsets(kafka.bootstrap, DEADLINES)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def send(spec, data):
        event, key = make_event(spec, data, source="/baocao/test", province="30")
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    def report(unit: str, received: str) -> SubmissionV1:
        return SubmissionV1(
            submission_id=uuid.uuid4(),
            province="30",
            unit=unit,
            plan_id=plan.id,
            period="2019-06",
            version=1,
            values={},
            narratives={},
            received_at=at(received),
            first_received_at=at(received),
        )

    async def row(unit: str):
        async with app.state.runtime.sessionmaker() as session:
            return (await session.execute(select(orm.obligations).where(orm.obligations.c.unit == unit))).first()

    try:
        async with app.router.lifespan_context(app):
            await send(PROVINCE_UPSERTED, HAI_DUONG.province)
            for code in (early, late):
                await send(UNIT_UPSERTED, UnitV1(province="30", code=code, name=f"Đơn vị {code}", kind="member"))
            await send(SUBMISSION_RECEIVED, report(early, "2019-06-12T09:00:00+07:00"))
            await wait_until(lambda: row(early), timeout=90, what="the early report to be recorded, period unknown")
            assert (await row(early)).due_at is None
            await send(PLAN_UPSERTED, plan)

            async def plan_known():
                async with app.state.runtime.sessionmaker() as session:
                    return await session.scalar(select(orm.plans.c.id).where(orm.plans.c.id == plan.id))

            await wait_until(plan_known, timeout=90, what="the plan")
            await tick(app.state.runtime.sessionmaker, now=at("2019-06-20T08:00:00+07:00"))  # opens 2019-06
            await tick(app.state.runtime.sessionmaker, now=at("2019-06-25T00:00:00+07:00"))  # closes it
            # Accepted by intake on the 18th, this report reaches deadlines only after the close.
            await send(SUBMISSION_RECEIVED, report(late, "2019-06-18T10:00:00+07:00"))

            async def announced():
                events = [
                    CloudEvent.from_bytes(r.value) for r in await read_topic(kafka.bootstrap, DEADLINES, since=since)
                ]
                mine = [
                    e.data
                    for e in events
                    if e.type == "vn.baocao.obligation.updated.v1" and e.data["plan_id"] == plan.id
                ]
                return mine if len(mine) >= 2 else None

            updates = await wait_until(announced, timeout=30, what="both obligations to be announced")
    finally:
        await producer.stop()
    by_unit = {u["unit"]: u for u in updates}  # two units, two partitions: no order between them
    assert len(updates) == 2
    assert (by_unit[early]["status"], by_unit[early]["closed"]) == ("on_time", False)
    assert (by_unit[late]["status"], by_unit[late]["closed"]) == ("late", True)
    assert by_unit[late]["late_by_s"] == 2 * 86400 + 10 * 3600
