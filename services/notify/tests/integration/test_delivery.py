"""Reminders, overdue notices and escalations reach a real SMTP server once, also through an outage.

Catalogue and deadlines events are published straight on the shared broker; an aiosmtpd server on
a free loopback port stands for the province's mail server, and starts only after the first
attempts have failed.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from baocao_shared.events import CloudEvent, make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, REMINDER_DUE
from baocao_shared.events.topics import NOTIFICATIONS
from baocao_stack.ports import free_port
from baocao_testing.kit import TokenMint, end_offsets, read_topic, wait_until
from notify.adapters import orm
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE = "91"  # a province no other test uses: its operators' mailbox is this test's alone


class Mailbox:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for rcpt in envelope.rcpt_tos:
            message["X-Envelope-To"] = rcpt
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["X-Envelope-To"] == address]


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


async def test_notices_reach_the_mail_server_once_after_an_outage(postgres, kafka):
    tag = uuid.uuid4().hex[:6].upper()
    late, missing = f"LATE{tag}", f"MISS{tag}"
    plan_id = f"notify-{tag.lower()}"
    operator, late_mail, missing_mail = (f"{who}-{tag.lower()}@example.vn" for who in ("op", "late", "miss"))
    smtp_port = free_port()
    mint = TokenMint()
    settings = await given.notify_settings(
        postgres,
        kafka,
        outbox_poll_interval_s=0.2,
        smtp_port=smtp_port,
        sender_tick_s=0.1,
        retry_initial_s=0.2,
        retry_max_s=1.0,
        delivery_max_attempts=50,
        service_urls={"intake": "http://intake.test", "deadlines": "http://deadlines.test"},
    )
    app = create_app(settings, verifier=mint.verifier())
    since = await end_offsets(kafka.bootstrap, NOTIFICATIONS)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def send(spec, data, *, twice: bool = False):
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        for _ in range(2 if twice else 1):  # a redelivered record carries the same event id
            await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    def notice(spec, unit: str, kind: str, **extra):
        return given.a_notice(PROVINCE, plan_id, unit, kind, **extra)

    async def deliveries():
        return await given.deliveries_of(app, plan_id)

    try:
        async with app.router.lifespan_context(app):
            await send(PROVINCE_UPSERTED, given.a_province(PROVINCE, given.email(operator)))
            for code, address in ((late, late_mail), (missing, missing_mail)):
                await send(UNIT_UPSERTED, given.a_unit(PROVINCE, code, given.email(address)))

            async def catalogue_known():  # topics are not ordered together: notices wait for their units
                units = await given.units_known(app, [late, missing])
                async with app.state.runtime.sessionmaker() as session:
                    province = await session.scalar(select(orm.provinces.c.doc).where(orm.provinces.c.code == PROVINCE))
                return units == 2 and province and province["operator_contacts"][0]["address"] == operator

            await wait_until(catalogue_known, timeout=90, what="the province and its units in notify's catalogue")
            await send(
                REMINDER_DUE,
                notice(REMINDER_DUE, late, "reminder", day_offset=-1, fire_at=datetime(2019, 6, 14, 1, tzinfo=UTC)),
                twice=True,
            )
            await send(
                DEADLINE_MISSED,
                notice(DEADLINE_MISSED, missing, "overdue", day_offset=3, late_by_s=2 * 86400 + 8 * 3600,
                       fire_at=datetime(2019, 6, 18, 1, tzinfo=UTC)),
                twice=True,
            )  # fmt: skip
            digest = given.a_digest(PROVINCE, plan_id, {missing: f"Sở Thử nghiệm {missing}"}, expected=2)
            await send(ESCALATION_RAISED, digest, twice=True)

            # The mail server is down: every delivery is tried, fails, and waits to be tried again.
            async def all_retrying():
                rows = await deliveries()
                return len(rows) == 3 and all(r.attempts >= 2 and r.status == "pending" for r in rows) and rows

            rows = await wait_until(all_retrying, timeout=90, what="three deliveries failing while SMTP is down")
            assert all("Connect" in (r.last_error or "") or "refused" in (r.last_error or "") for r in rows)

            smtp.start()

            async def all_sent():
                rows = await deliveries()
                return len(rows) == 3 and all(r.status == "sent" for r in rows) and rows

            await wait_until(all_sent, timeout=30, what="every delivery to be sent once SMTP is back")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
                listed = await client.get(
                    "/v1/deliveries",
                    params={"province": PROVINCE, "period": "2019-06"},
                    headers=mint.headers("province_operator", PROVINCE),
                )
                foreign = await client.get(
                    "/v1/deliveries", params={"province": PROVINCE}, headers=mint.headers("province_operator", "30")
                )

            async def sent_events():
                records = await read_topic(kafka.bootstrap, NOTIFICATIONS, since=since)
                events = [CloudEvent.from_bytes(r.value) for r in records]
                mine = [e for e in events if e.data["province"] == PROVINCE and e.data["period"] == "2019-06"]
                return mine if len(mine) >= 3 else None

            events = await wait_until(sent_events, timeout=30, what="notification.sent on baocao.notifications")
    finally:
        if smtp.server is not None:
            smtp.stop()
        await producer.stop()

    # Each recipient got its mail once, in Vietnamese, naming the unit and the deadline.
    [reminder] = mailbox.to(late_mail)
    assert reminder["Subject"] == (
        f"[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Thử nghiệm {late}: hạn 00:00 ngày 16/06/2019"
    )
    assert f"Sở Thử nghiệm {late}" in text_of(reminder) and "http://intake.test/dang-nhap" in text_of(reminder)
    [overdue] = mailbox.to(missing_mail)
    assert overdue["Subject"] == f"[Quá hạn] Sở Thử nghiệm {missing} chưa gửi báo cáo tháng 06/2019"
    assert "đã quá hạn 2 ngày" in text_of(overdue) and "16/06/2019" in text_of(overdue)
    [digest] = mailbox.to(operator)
    assert digest["Subject"] == "[Tổng hợp] 1 đơn vị chưa gửi báo cáo tháng 06/2019"
    assert f"Sở Thử nghiệm {missing} ({missing})" in text_of(digest)
    # the dashboard of this plan and period (a province with several plans would otherwise open another one)
    assert f"http://deadlines.test/tien-do?province=91&plan_id={plan_id}&period=2019-06" in text_of(digest)

    assert listed.status_code == 200, listed.text
    by_recipient = {d["recipient"]: d for d in listed.json() if d["unit"] in (late, missing, None)}
    assert {
        r: (d["status"], d["channel"]) for r, d in by_recipient.items() if r in (operator, late_mail, missing_mail)
    } == {
        operator: ("sent", "email"),
        late_mail: ("sent", "email"),
        missing_mail: ("sent", "email"),
    }
    assert by_recipient[late_mail]["cause_type"] == "vn.baocao.reminder.due.v1"
    assert by_recipient[late_mail]["attempts"] >= 3  # two failures while the server was down, then success
    assert foreign.status_code == 403

    assert {e.type for e in events} == {"vn.baocao.notification.sent.v1"}
    assert sorted(e.data["recipient"] for e in events) == sorted([operator, late_mail, missing_mail])
    async with app.state.runtime.sessionmaker() as session:  # the copies of each event made no new row
        count = await session.scalar(
            select(func.count()).select_from(orm.deliveries).where(orm.deliveries.c.plan_id == plan_id)
        )
    assert count == 3
