"""Topics are not ordered together: a reminder and an escalation that notify reads before their unit and
province wait for them, and are mailed once the catalogue arrives, once each, also when the reminder
came twice.

Real broker, database and SMTP server (aiosmtpd); the notices are published before the catalogue, and
the catalogue only once notify has read both copies of the reminder and kept both notices waiting.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import ESCALATION_RAISED, REMINDER_DUE
from baocao_testing.kit import SmtpMailbox, wait_until
from notify.adapters import orm
from notify.consumers import GROUP
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE = "89"  # no other test uses it: nothing on the broker's catalogue knows it before this test


async def test_notices_before_their_unit_and_province_are_mailed_once_the_catalogue_arrives(postgres, kafka):
    tag = uuid.uuid4().hex[:6]
    unit, plan_id = f"CHO{tag.upper()}", f"order-{tag}"
    unit_mail, operator = f"vanthu-{tag}@thunghiem.baocao.test", f"thuongtruc-{tag}@thunghiem.baocao.test"
    mailbox = SmtpMailbox()
    smtp = given.started_smtp(mailbox)
    urls = {"intake": "http://intake.test", "deadlines": "http://deadlines.test"}
    settings = await given.notify_settings(postgres, kafka, mail_to=smtp, service_urls=urls)
    app, group = create_app(settings), f"{settings.consumer_group_prefix}{GROUP}"
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
        return await given.deliveries_of(app, plan_id)

    try:
        async with app.router.lifespan_context(app):
            reminder = given.a_notice(
                PROVINCE, plan_id, unit, "reminder", unit_name="Sở Thử nghiệm", day_offset=-1,
                fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC),
            )  # fmt: skip
            last_copy = await publish(REMINDER_DUE, reminder, copies=2)
            await publish(ESCALATION_RAISED, given.a_digest(PROVINCE, plan_id, {unit: "Sở Thử nghiệm"}, expected=1))

            # Neither the unit nor the province is known: both notices wait, and nothing is sent yet.
            async def both_waiting():
                kept = await waiting()
                return len(kept) == 2 and kept

            kept = await wait_until(both_waiting, timeout=90, what="the reminder and the escalation to wait")
            await given.consumed_through(
                kafka.bootstrap, group, last_copy, what="notify to read the reminder's second copy"
            )
            assert await deliveries() == []

            await publish(
                PROVINCE_UPSERTED, given.a_province(PROVINCE, given.email(operator), name="Tỉnh Thứ Tự", place="Thứ Tự")
            )
            await publish(UNIT_UPSERTED, given.a_unit(PROVINCE, unit, given.email(unit_mail), name="Sở Thử nghiệm"))

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
