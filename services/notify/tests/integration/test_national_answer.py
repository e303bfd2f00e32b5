"""The national office's answer to a province's published report reaches the province's operators by real mail
(aiosmtpd) and in their in-app inbox: returned, with its reason; accepted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, ContactV1
from baocao_shared.events.reports import REPORT_ACCEPTED, REPORT_RETURNED, ReportStatusV1
from baocao_testing.kit import SmtpMailbox, wait_until
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE = "87"  # a code no other notify test uses
PERIOD = "2019-06"
REASON = "Thiếu số liệu của UBND huyện Nam Sách; đề nghị bổ sung"


async def test_the_provinces_operators_are_told_of_a_return_with_its_reason_and_of_an_acceptance(postgres, kafka):
    tag = uuid.uuid4().hex[:6]
    plan_id, operator, inbox = f"tra-lai-{tag}", f"thuongtruc@tl-{tag}.baocao.test", f"op-{tag}"
    province = given.a_province(
        PROVINCE, given.email(operator), ContactV1(channel="inbox", address=inbox), name="Tỉnh Trả Lại"
    )
    mailbox = SmtpMailbox()
    smtp = given.started_smtp(mailbox)
    settings = await given.notify_settings(
        postgres, kafka, mail_to=smtp, service_urls={"consolidation": "http://consolidation.test"}
    )
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def publish(spec, data) -> None:
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    def answer(status: str, hour: int, reason: str | None = None) -> ReportStatusV1:
        return ReportStatusV1(
            province=PROVINCE, plan_id=plan_id, period=PERIOD, status=status, revision=2,
            at=datetime(2019, 6, 21, hour, tzinfo=UTC), by="vpttt", reason=reason,
        )  # fmt: skip

    try:
        async with app.router.lifespan_context(app):
            await publish(PROVINCE_UPSERTED, province)
            await publish(REPORT_RETURNED, answer("draft", 2, REASON))
            await publish(REPORT_ACCEPTED, answer("accepted", 4))

            async def all_sent():
                rows = await given.deliveries_of(app, plan_id)
                return len(rows) == 4 and all(r.status == "sent" for r in rows) and rows

            rows = await wait_until(all_sent, timeout=60, what="both answers to reach the operators")
    finally:
        smtp.stop()
        await producer.stop()

    assert sorted((r.cause_type.split(".")[3], r.channel, r.recipient) for r in rows) == [
        ("accepted", "email", operator), ("accepted", "inbox", inbox),
        ("returned", "email", operator), ("returned", "inbox", inbox),
    ]  # fmt: skip
    mails = {m["Subject"]: SmtpMailbox.text_of(m) for m in mailbox.to(operator)}
    returned = mails["[Trả lại] Báo cáo tổng hợp tháng 06/2019 của Tỉnh Trả Lại"]
    assert returned.startswith("Kính gửi: Cơ quan thường trực Tỉnh Trả Lại,")
    assert "Văn phòng Thường trực đã trả lại báo cáo tổng hợp tháng 06/2019 của Tỉnh Trả Lại" in returned
    assert "(vpttt, 09:00 ngày 21/06/2019)" in returned and f"Lý do: {REASON}" in returned
    assert f"http://consolidation.test/tong-hop/{PROVINCE}/{PERIOD}" in returned
    accepted = mails["[Đã tiếp nhận] Báo cáo tổng hợp tháng 06/2019 của Tỉnh Trả Lại"]
    assert "đã tiếp nhận báo cáo tổng hợp tháng 06/2019 của Tỉnh Trả Lại (vpttt, 11:00 ngày 21/06/2019)" in accepted
    assert len(mails) == 2
