"""The national level's notices mailed on the real stack (issue 18 §1): a province's reminder about its report to the
national office reaches the province's operators; the digest of the provinces missing reaches the national standing
office. The notices arrive on baocao.deadlines as deadlines publishes them; a real SMTP server receives the mails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED
from baocao_shared.events.deadlines import (
    NATIONAL_ESCALATION_RAISED,
    PROVINCE_REMINDER_DUE,
    MissingProvinceV1,
    NationalEscalationV1,
    ProvinceNoticeV1,
)
from baocao_testing.kit import SmtpMailbox, TokenMint, wait_until
from notify.adapters import orm
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE = "94"  # a code no other test uses
DUE = datetime(2026, 11, 19, 17, tzinfo=UTC)  # 00:00 on 20/11/2026 in Vietnam


async def test_a_province_reminder_reaches_its_operators_and_the_digest_the_national_office(postgres, kafka):
    tag = uuid.uuid4().hex[:6]
    operator, national = f"thuongtruc-{tag}@quocgia.baocao.test", f"vptt-{tag}@quocgia.baocao.test"
    plan_id = f"qg-{tag}"
    mailbox = SmtpMailbox()
    smtp = given.started_smtp(mailbox)
    notify = create_app(
        await given.notify_settings(
            postgres, kafka, mail_to=smtp, national_contacts=[given.email(national)],
            service_urls={"deadlines": "http://deadlines.test", "consolidation": "http://consolidation.test"},
        ),
        verifier=TokenMint().verifier(),
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def publish(spec, data, *, province: str | None) -> None:
        event, key = make_event(spec, data, source="/baocao/deadlines", province=province, time=DUE)
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    async def sent(count: int):
        async def done():
            async with notify.state.runtime.sessionmaker() as session:
                d = orm.deliveries.c
                rows = (
                    await session.execute(select(orm.deliveries).where(d.recipient.in_([operator, national])))
                ).all()
            return len(rows) == count and all(r.status == "sent" for r in rows) and rows

        return await wait_until(done, timeout=90, what=f"{count} mails sent")

    try:
        async with notify.router.lifespan_context(notify):
            place = given.a_province(PROVINCE, given.email(operator), name="Tỉnh Thử Quốc Gia")
            await publish(PROVINCE_UPSERTED, place, province=PROVINCE)
            reminder = ProvinceNoticeV1(
                province=PROVINCE, province_name=place.name, plan_id=plan_id, period="2026-11", due_at=DUE,
                kind="reminder", sequence=0, day_offset=-3, fire_at=datetime(2026, 11, 16, 1, tzinfo=UTC),
            )  # fmt: skip
            await publish(PROVINCE_REMINDER_DUE, reminder, province=PROVINCE)
            digest = NationalEscalationV1(
                period="2026-11", plan_ids=[plan_id], due_at=DUE, fire_at=datetime(2026, 11, 20, 1, tzinfo=UTC),
                expected=3,
                missing_provinces=[MissingProvinceV1(province=PROVINCE, province_name=place.name, plan_id=plan_id)],
            )  # fmt: skip
            await publish(NATIONAL_ESCALATION_RAISED, digest, province=None)
            await sent(2)
    finally:
        await producer.stop()
        smtp.stop()

    [to_operator] = mailbox.to(operator)
    assert to_operator["Subject"] == (
        "[Nhắc hạn] Báo cáo tổng hợp tháng 11/2026 của Tỉnh Thử Quốc Gia: hạn 00:00 ngày 20/11/2026"
    )
    assert "http://consolidation.test/tong-hop/94/2026-11" in SmtpMailbox.text_of(to_operator)
    [to_national] = mailbox.to(national)
    assert to_national["Subject"] == "[Tổng hợp] 1 tỉnh, thành phố chưa gửi báo cáo tháng 11/2026"
    text = SmtpMailbox.text_of(to_national)
    assert "1/3 tỉnh, thành phố chưa gửi báo cáo tổng hợp tháng 11/2026" in text
    assert "- Tỉnh Thử Quốc Gia (94)" in text
