"""Topics are not ordered together: a reminder and an escalation that notify reads before their unit and
province wait for them, and are mailed once the catalogue arrives, once each, also when the reminder
came twice.

Real broker, database and SMTP server (aiosmtpd); the notices are published before the catalogue, and
the catalogue only once notify has read both copies of the reminder and kept both notices waiting.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiosmtpd.controller import Controller
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED, ContactV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import ESCALATION_RAISED, REMINDER_DUE, EscalationV1, UnitNoticeV1
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, wait_until
from notify.adapters import orm
from notify.config import Settings
from notify.consumers import GROUP
from notify.main import create_app

pytestmark = pytest.mark.integration
PROVINCE = "89"  # no other test uses it: nothing on the broker's catalogue knows it before this test
DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)  # 00:00 on 16/06/2019 local


async def test_notices_before_their_unit_and_province_are_mailed_once_the_catalogue_arrives(
    postgres, kafka, group_prefix
):
    tag = uuid.uuid4().hex[:6]
    unit, plan_id = f"CHO{tag.upper()}", f"order-{tag}"
    unit_mail, operator = f"vanthu-{tag}@thunghiem.baocao.test", f"thuongtruc-{tag}@thunghiem.baocao.test"
    prefix = group_prefix
    mailbox = SmtpMailbox()
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
            service_urls={"intake": "http://intake.test", "deadlines": "http://deadlines.test"},
        )
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def publish(spec, data, *, copies: int = 1):
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        for _ in range(copies):  # a redelivered record carries the same event id
            sent = await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
        return sent

    async def waiting() -> dict[str, str | None]:
        async with app.state.runtime.sessionmaker() as session:
            w = orm.waiting_notices
            rows = (await session.execute(select(w).where(w.c.province == PROVINCE))).all()
        return {r.cause_type: r.unit for r in rows}

    async def deliveries() -> list:
        async with app.state.runtime.sessionmaker() as session:
            return (await session.execute(select(orm.deliveries).where(orm.deliveries.c.plan_id == plan_id))).all()

    try:
        async with app.router.lifespan_context(app):
            last_copy = await publish(
                REMINDER_DUE,
                UnitNoticeV1(
                    province=PROVINCE, plan_id=plan_id, period="2019-06", unit=unit, unit_name="Sở Thử nghiệm",
                    due_at=DUE, kind="reminder", sequence=0, day_offset=-1,
                    fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC),
                ),
                copies=2,
            )  # fmt: skip
            await publish(
                ESCALATION_RAISED,
                EscalationV1(
                    province=PROVINCE, plan_id=plan_id, period="2019-06", due_at=DUE,
                    fire_at=datetime(2019, 6, 16, 1, tzinfo=UTC), expected=1,
                    missing_units=[{"unit": unit, "unit_name": "Sở Thử nghiệm"}],
                ),
            )  # fmt: skip

            # Neither the unit nor the province is known: both notices wait, and nothing is sent yet.
            async def both_waiting():
                kept = await waiting()
                return len(kept) == 2 and kept

            kept = await wait_until(both_waiting, timeout=90, what="the reminder and the escalation to wait")
            await _consumed_through(kafka.bootstrap, f"{prefix}{GROUP}", last_copy)
            assert await deliveries() == []

            await publish(
                PROVINCE_UPSERTED,
                ProvinceV1(
                    code=PROVINCE, name="Tỉnh Thứ Tự", issuing_body="BAN CHỈ ĐẠO", place_name="Thứ Tự",
                    operator_contacts=[ContactV1(channel="email", address=operator)],
                ),
            )  # fmt: skip
            await publish(
                UNIT_UPSERTED,
                UnitV1(
                    province=PROVINCE, code=unit, name="Sở Thử nghiệm", kind="member",
                    contacts=[ContactV1(channel="email", address=unit_mail)],
                ),
            )  # fmt: skip

            async def both_sent():
                rows = await deliveries()
                return len(rows) == 2 and all(r.status == "sent" for r in rows) and rows

            rows = await wait_until(both_sent, timeout=90, what="the released notices to be mailed")
            left = await waiting()
    finally:
        smtp.stop()
        await producer.stop()

    assert kept == {REMINDER_DUE.type: unit, ESCALATION_RAISED.type: None}
    assert left == {}
    # Each mail once, to the address the catalogue gave, rendered with what the catalogue said.
    [reminder] = mailbox.to(unit_mail)
    assert reminder["Subject"] == "[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Thử nghiệm: hạn 00:00 ngày 16/06/2019"
    [digest] = mailbox.to(operator)
    assert digest["Subject"] == "[Tổng hợp] 1 đơn vị chưa gửi báo cáo tháng 06/2019"
    assert "Tỉnh Thứ Tự" in SmtpMailbox.text_of(digest) and f"Sở Thử nghiệm ({unit})" in SmtpMailbox.text_of(digest)
    # (Other tests' notices on the shared broker reach this notify too, addressed to their own units.)
    assert {m["Message-ID"] for m in (reminder, digest)} == {f"<{r.id}@baocao.notify>" for r in rows}
    assert {(r.cause_type, r.recipient) for r in rows} == {
        (REMINDER_DUE.type, unit_mail),
        (ESCALATION_RAISED.type, operator),
    }


async def _consumed_through(bootstrap: str, group: str, record) -> None:
    """Wait until `group` has committed past `record`: here, notify has read the reminder's second copy."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def done() -> bool:
            try:
                committed = await admin.list_consumer_group_offsets(group)
            except KafkaError:  # the group's coordinator may take a moment to exist
                return False
            position = committed.get(TopicPartition(record.topic, record.partition), SimpleNamespace(offset=-1))
            return position.offset > record.offset

        await wait_until(done, timeout=60, interval=0.2, what="notify to read the reminder's second copy")
    finally:
        await admin.close()
