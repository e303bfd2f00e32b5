"""What a permanent failure looks like: a refused mailbox ends `failed` with its reason, a poison record
is dead-lettered, and the unit's partition keeps moving: its next notice still reaches the good address.

Real aiosmtpd (refusing one mailbox with 550), real broker and database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from sqlalchemy import select

from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED, ContactV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import DEADLINE_MISSED, REMINDER_DUE, UnitNoticeV1
from baocao_shared.events.topics import NOTIFICATIONS, dlq_topic
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, TokenMint, end_offsets, read_topic, wait_until
from notify.adapters import orm
from notify.config import Settings
from notify.main import create_app

pytestmark = pytest.mark.integration
PROVINCE = "94"  # no other test uses it
DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)


async def test_a_refused_mailbox_fails_for_good_and_the_partition_moves_on(postgres, kafka, group_prefix):
    tag = uuid.uuid4().hex[:6]
    unit, plan_id = f"U{tag.upper()}", f"fail-{tag}"
    good, refused = f"vanthu-{tag}@tot.baocao.test", f"khongton-{tag}@tot.baocao.test"
    prefix = group_prefix
    mint = TokenMint()
    mailbox = SmtpMailbox(refuse=frozenset({refused}))
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    app = create_app(
        Settings(
            database_url=await create_database(postgres, "notify"),
            kafka_bootstrap_servers=kafka.bootstrap,
            env="test",
            consumer_group_prefix=prefix,
            outbox_poll_interval_s=0.1,
            smtp_port=smtp.port,
            sender_tick_s=0.1,
            delivery_max_attempts=3,
            retry_initial_s=0.1,
            retry_max_s=0.3,
        ),
        verifier=mint.verifier(),
    )
    since = {
        topic: await end_offsets(kafka.bootstrap, topic) for topic in (NOTIFICATIONS, dlq_topic(f"{prefix}notify"))
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def publish(spec, data) -> None:
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    def notice(kind: str, fire_at: datetime, **extra) -> UnitNoticeV1:
        return UnitNoticeV1(
            province=PROVINCE, plan_id=plan_id, period="2019-06", unit=unit, unit_name="Sở Thử nghiệm",
            due_at=DUE, kind=kind, sequence=0, fire_at=fire_at, **extra,
        )  # fmt: skip

    async def deliveries() -> dict[tuple[str, str], object]:
        async with app.state.runtime.sessionmaker() as session:
            d = orm.deliveries
            rows = (await session.execute(select(d).where(d.c.plan_id == plan_id))).all()
        return {(r.cause_type.split(".")[2], r.recipient): r for r in rows}

    try:
        async with app.router.lifespan_context(app):
            await publish(
                PROVINCE_UPSERTED,
                ProvinceV1(code=PROVINCE, name="Tỉnh Thử nghiệm", issuing_body="BAN CHỈ ĐẠO", place_name="Thử nghiệm"),
            )
            contacts = [ContactV1(channel="email", address=a) for a in (good, refused)]
            await publish(
                UNIT_UPSERTED,
                UnitV1(province=PROVINCE, code=unit, name="Sở Thử nghiệm", kind="member", contacts=contacts),
            )

            async def unit_known():
                async with app.state.runtime.sessionmaker() as session:
                    return await session.scalar(select(orm.units.c.code).where(orm.units.c.code == unit))

            await wait_until(unit_known, timeout=90, what="the unit in notify's catalogue")
            await publish(REMINDER_DUE, notice("reminder", datetime(2019, 6, 12, 1, tzinfo=UTC), day_offset=-3))

            async def reminder_settled():
                rows = await deliveries()
                return len(rows) == 2 and all(r.status != "pending" for r in rows.values()) and rows

            rows = await wait_until(reminder_settled, timeout=60, what="both reminder deliveries to settle")

            # A record on the unit's partition that no handler can read (its data breaks the schema) ...
            poison, key = make_event(REMINDER_DUE, notice("reminder", DUE), source="/baocao/test", province=PROVINCE)
            broken = CloudEvent(**{**poison.model_dump(), "data": {"province": PROVINCE, "unit": unit}})
            await producer.send_and_wait(REMINDER_DUE.topic, value=broken.to_bytes(), key=key.encode())
            # ... and, behind it on the same partition, the overdue notice.
            await publish(
                DEADLINE_MISSED,
                notice("overdue", datetime(2019, 6, 16, 1, tzinfo=UTC), day_offset=1, late_by_s=8 * 3600),
            )

            async def overdue_settled():
                rows = await deliveries()
                overdue = [r for (kind, _), r in rows.items() if kind == "deadline"]
                return len(overdue) == 2 and all(r.status != "pending" for r in overdue) and rows

            rows = await wait_until(overdue_settled, timeout=90, what="the overdue notice behind the poison record")

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
                listed = await client.get(
                    "/v1/deliveries",
                    params={"province": PROVINCE, "period": "2019-06", "unit": unit},
                    headers=mint.headers("province_operator", PROVINCE),
                )

            async def outcomes():
                events = [
                    CloudEvent.from_bytes(r.value)
                    for r in await read_topic(kafka.bootstrap, NOTIFICATIONS, since=since[NOTIFICATIONS])
                ]
                mine = [e for e in events if e.data["province"] == PROVINCE and e.data["unit"] == unit]
                return mine if len(mine) >= 4 else None

            events = await wait_until(outcomes, timeout=30, what="the four outcomes on baocao.notifications")
            dead = await wait_until(
                lambda: read_topic(
                    kafka.bootstrap, dlq_topic(f"{prefix}notify"), since=since[dlq_topic(f"{prefix}notify")]
                ),
                timeout=30,
                what="the poison record on notify's dead-letter topic",
            )
    finally:
        smtp.stop()
        await producer.stop()

    # The refused mailbox: tried three times, then failed with the server's answer as the reason.
    for kind in ("reminder", "deadline"):
        failed = rows[(kind, refused)]
        assert (failed.status, failed.attempts) == ("failed", 3)
        assert "550" in failed.last_error and "Mailbox unavailable" in failed.last_error
        assert rows[(kind, good)].status == "sent"
    # The good address got both notices, once each, although the partition held a poison record between them.
    subjects = sorted(m["Subject"].split("]")[0] + "]" for m in mailbox.to(good))
    assert subjects == ["[Nhắc hạn]", "[Quá hạn]"]
    assert mailbox.to(refused) == []
    [dead_letter] = dead
    headers = dict(dead_letter.headers)
    assert headers["dlq.origin_topic"] == REMINDER_DUE.topic.encode()
    assert b"ValidationError" in headers["dlq.error_type"] or b"validation" in headers["dlq.error"].lower()
    # The operator sees why, and the outcome is announced.
    assert listed.status_code == 200, listed.text
    failed_listed = [
        (d["recipient"], "550" in (d["last_error"] or "")) for d in listed.json() if d["status"] == "failed"
    ]
    assert failed_listed == [(refused, True), (refused, True)]
    assert sorted((e.type.split(".")[3], e.data["recipient"]) for e in events) == sorted(
        [("sent", good), ("sent", good), ("failed", refused), ("failed", refused)]
    )
    assert all(e.data["reason"] and "550" in e.data["reason"] for e in events if e.type.endswith("failed.v1"))
