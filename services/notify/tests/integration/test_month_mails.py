"""A driven month: deadlines raises the notices, notify mails them to a real SMTP server, once each.

deadlines and notify run together on the shared broker and their own databases. The catalogue and
the submissions arrive as intake publishes them; the test moves deadlines' clock by calling its
scheduler tick at the plan's instants (reminders 12, 14, 15 June; overdue 16, 18, 20 June with the
escalation on the 16th), urges one unit through deadlines' API, and announces the approved and the
published report as consolidation does. An aiosmtpd server receives every mail.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, ContactV1
from baocao_shared.events.reports import (
    REPORT_APPROVED,
    REPORT_PUBLISHED,
    ConsolidatedReportV1,
    DisciplineV1,
    ReportStatusV1,
)
from baocao_shared.events.submissions import SUBMISSION_RECEIVED, SubmissionV1
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, TokenMint, wait_until
from deadlines.adapters import orm as deadlines_orm
from deadlines.config import Settings as DeadlinesSettings
from deadlines.handlers.scheduler import tick
from deadlines.main import create_app as create_deadlines
from intake.domain.catalog import parse_province_file
from notify.adapters import orm
from notify.main import create_app as create_notify
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PROVINCE = "95"  # Hải Dương's plan and units under a code no other test uses
UNITS = ["CA", "BTG", "SNGV", "STP"]  # on time early, on time after a reminder, late, never
PERIOD = "2019-06"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_a_driven_month_mails_each_notice_once_to_the_right_people(postgres, kafka, group_prefix):
    tag = uuid.uuid4().hex[:6]
    mail = {code: f"vanthu.{code.lower()}-{tag}@thang.baocao.test" for code in UNITS}
    operator, national = f"thuongtruc-{tag}@thang.baocao.test", f"vptt-{tag}@thang.baocao.test"
    province = HAI_DUONG.province.model_copy(
        update={
            "code": PROVINCE,
            "operator_contacts": [
                given.email(operator),
                ContactV1(channel="inbox", address=f"test-province_operator-{PROVINCE}"),  # TokenMint's name
            ],
        }
    )
    units = [
        u.model_copy(update={"province": PROVINCE, "contacts": [given.email(mail[u.code])]})
        for u in HAI_DUONG.units
        if u.code in UNITS
    ]
    names = {u.code: u.name for u in units}
    plan = HAI_DUONG.plans[0].model_copy(update={"id": f"thang-{tag}", "province": PROVINCE, "units": UNITS})

    mint = TokenMint()
    prefix = group_prefix
    mailbox = SmtpMailbox()
    smtp = given.started_smtp(mailbox)
    deadlines = create_deadlines(
        DeadlinesSettings(
            database_url=await create_database(postgres, "deadlines"),
            kafka_bootstrap_servers=kafka.bootstrap,
            env="test",
            scheduler_enabled=False,
            consumer_group_prefix=prefix,
            outbox_poll_interval_s=0.1,
            # The nudge on 21 June: deadlines' own clock stands there.
            clock="simulated",
            clock_start=utc("2019-06-21T09:00:00+07:00"),
            clock_epoch=datetime.now(UTC),
        ),
        verifier=mint.verifier(),
    )
    notify = create_notify(
        await given.notify_settings(
            postgres,
            kafka,
            mail_to=smtp,
            consumer_group_prefix=prefix,
            national_contacts=[given.email(national)],
            service_urls={"intake": "http://intake.test", "consolidation": "http://consolidation.test"},
        ),
        verifier=mint.verifier(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def publish(spec, data, at: str) -> None:
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE, time=utc(at))
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    async def deliveries() -> list:
        async with notify.state.runtime.sessionmaker() as session:
            d = orm.deliveries
            return (await session.execute(select(d).where(d.c.plan_id == plan.id, d.c.channel == "email"))).all()

    async def all_sent(count: int, what: str) -> list:
        async def done():
            rows = await deliveries()
            return len(rows) == count and all(r.status == "sent" for r in rows) and rows

        return await wait_until(done, timeout=90, what=what)

    async def at(instant: str, then_sent: int) -> None:
        """deadlines ticks at the instant; notify has then sent `then_sent` mails of this plan in all."""
        await tick(deadlines.state.runtime.sessionmaker, now=utc(instant))
        await all_sent(then_sent, f"{then_sent} mails after the tick at {instant}")

    async def submits(unit: str, received: str) -> None:
        data = SubmissionV1(
            submission_id=uuid.uuid4(), province=PROVINCE, unit=unit, plan_id=plan.id, period=PERIOD, version=1,
            values={"t1_sessions": 1}, narratives={}, received_at=utc(received), first_received_at=utc(received),
        )  # fmt: skip
        await publish(SUBMISSION_RECEIVED, data, received)

        async def applied():
            async with deadlines.state.runtime.sessionmaker() as session:
                o = deadlines_orm.obligations.c
                return await session.scalar(
                    select(o.last_version).where(o.plan_id == plan.id, o.period == PERIOD, o.unit == unit)
                )

        await wait_until(applied, timeout=60, what=f"{unit}'s submission to reach deadlines")

    try:
        async with deadlines.router.lifespan_context(deadlines), notify.router.lifespan_context(notify):
            await publish(PROVINCE_UPSERTED, province, "2019-06-01T00:00:00+07:00")
            for unit in units:
                await publish(UNIT_UPSERTED, unit, "2019-06-01T00:00:00+07:00")
            await publish(PLAN_UPSERTED, plan, "2019-06-01T00:00:00+07:00")

            async def catalogue_known():
                async with deadlines.state.runtime.sessionmaker() as session:
                    in_deadlines = await session.scalar(
                        select(deadlines_orm.plans.c.doc["units"]).where(deadlines_orm.plans.c.id == plan.id)
                    )
                async with notify.state.runtime.sessionmaker() as session:
                    in_notify = (
                        await session.execute(select(orm.units.c.code).where(orm.units.c.province == PROVINCE))
                    ).all()
                    province_known = await session.scalar(
                        select(orm.provinces.c.code).where(orm.provinces.c.code == PROVINCE)
                    )
                return in_deadlines == UNITS and len(in_notify) == len(UNITS) and province_known

            await wait_until(catalogue_known, timeout=120, what="the catalogue in deadlines and notify")

            await tick(deadlines.state.runtime.sessionmaker, now=utc("2019-06-10T10:00:00+07:00"))  # opens June
            await submits("CA", "2019-06-11T09:00:00+07:00")
            await at("2019-06-12T08:00:00+07:00", then_sent=3)  # reminder 0: BTG, SNGV, STP
            await submits("BTG", "2019-06-13T10:00:00+07:00")
            await at("2019-06-14T08:00:00+07:00", then_sent=5)  # reminder 1: SNGV, STP
            await at("2019-06-15T08:00:00+07:00", then_sent=7)  # reminder 2: SNGV, STP
            # overdue 0: SNGV, STP; the escalation; and the province's own first reminder: its report to the
            # national office is due on the 20th (reminders 16, 18, 19 June; overdue 20, 22, 24 June)
            await at("2019-06-16T08:00:00+07:00", then_sent=11)
            await submits("SNGV", "2019-06-17T09:30:00+07:00")
            await at("2019-06-18T08:00:00+07:00", then_sent=13)  # overdue 1: STP; the province's reminder -1
            # overdue 2: STP; the province's overdue +1 (its reminder 0 of the 19th, past its deadline now, is silent)
            await at("2019-06-20T08:00:00+07:00", then_sent=15)

            transport = httpx.ASGITransport(app=deadlines)
            async with httpx.AsyncClient(transport=transport, base_url="http://deadlines.test") as client:
                nudged = await client.post(
                    "/v1/nudges",
                    json={"province": PROVINCE, "plan_id": plan.id, "period": PERIOD, "units": ["STP"],
                          "message": "Đề nghị gửi báo cáo trong ngày hôm nay."},
                    headers=mint.headers("province_operator", PROVINCE),
                )  # fmt: skip
            assert nudged.status_code == 202, nudged.text
            await all_sent(16, "the nudge to STP")
            # the close tells nobody; the province's overdue notices of the 22nd and 24th go out
            await at("2019-06-25T00:00:00+07:00", then_sent=18)

            approved = ReportStatusV1(
                province=PROVINCE, plan_id=plan.id, period=PERIOD, status="approved", revision=1,
                at=utc("2019-06-26T09:00:00+07:00"), by=f"op-{PROVINCE}",
            )  # fmt: skip
            await publish(REPORT_APPROVED, approved, "2019-06-26T09:00:00+07:00")
            await all_sent(19, "the approved report to the operators")
            await publish(REPORT_PUBLISHED, report(plan, province.name), "2019-06-26T10:00:00+07:00")
            rows = await all_sent(20, "the published report to the national office")

            transport = httpx.ASGITransport(app=notify)
            async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
                inbox = await client.get("/v1/inbox", headers=mint.headers("province_operator", PROVINCE))
    finally:
        smtp.stop()
        await producer.stop()

    # Each delivery of this plan reached the server once: one mail per Message-ID. (The national
    # mailbox also gets the reports other tests publish on the shared broker: those are not this plan's.)
    ours = {f"<{r.id}@baocao.notify>" for r in rows}
    mine = [m for m in mailbox.messages if m["Message-ID"] in ours]
    assert Counter(m["Message-ID"] for m in mine) == Counter(dict.fromkeys(ours, 1))
    units_and_operator = {*mail.values(), operator}
    assert all(m["Message-ID"] in ours for m in mailbox.messages if m["X-Envelope-To"] in units_and_operator)

    received = Counter((m["X-Envelope-To"], m["Subject"]) for m in mine)
    due = "hạn 00:00 ngày 16/06/2019"
    assert received == Counter(
        {
            (mail["BTG"], f"[Nhắc hạn] Báo cáo tháng 06/2019 của {names['BTG']}: {due}"): 1,
            (mail["SNGV"], f"[Nhắc hạn] Báo cáo tháng 06/2019 của {names['SNGV']}: {due}"): 3,
            (mail["SNGV"], f"[Quá hạn] {names['SNGV']} chưa gửi báo cáo tháng 06/2019"): 1,
            (mail["STP"], f"[Nhắc hạn] Báo cáo tháng 06/2019 của {names['STP']}: {due}"): 3,
            (mail["STP"], f"[Quá hạn] {names['STP']} chưa gửi báo cáo tháng 06/2019"): 3,
            (mail["STP"], f"[Đôn đốc] {names['STP']}: đề nghị gửi báo cáo tháng 06/2019"): 1,
            (operator, "[Tổng hợp] 2 đơn vị chưa gửi báo cáo tháng 06/2019"): 1,
            (operator, f"[Đã duyệt] Báo cáo tổng hợp tháng 06/2019 của {province.name}"): 1,
            (national, f"[Đã gửi] Báo cáo tháng 06/2019 của {province.name}"): 1,
            # the national level: the province's own report to the national office, due on the 20th
            (operator, f"[Nhắc hạn] Báo cáo tổng hợp tháng 06/2019 của {province.name}: hạn 00:00 ngày 20/06/2019"): 2,
            (operator, f"[Quá hạn] {province.name} chưa gửi báo cáo tổng hợp tháng 06/2019"): 3,
        }
    )
    assert not mailbox.to(mail["CA"]), "a unit that reported on time early is left alone"

    # The bodies name the unit and the deadline in local time, and say how late.
    text = SmtpMailbox.text_of
    first_reminder = mailbox.to(mail["BTG"])[0]
    assert f"Kính gửi: {names['BTG']}" in text(first_reminder)
    assert "Hạn gửi báo cáo tháng 06/2019 là 00:00 ngày 16/06/2019" in text(first_reminder)
    assert "http://intake.test/dang-nhap" in text(first_reminder)
    overdue = [m for m in mailbox.to(mail["STP"]) if m["Subject"].startswith("[Quá hạn]")]
    # Due at 00:00 on the 16th; notices at 08:00 on the 16th, 18th and 20th.
    late_by = sorted(text(m).split("đã quá hạn ")[1].split(" (hạn")[0] for m in overdue)
    assert late_by == ["2 ngày", "4 ngày", "8 giờ"]
    assert all("(hạn 00:00 ngày 16/06/2019)" in text(m) for m in overdue)
    nudge = next(m for m in mailbox.to(mail["STP"]) if m["Subject"].startswith("[Đôn đốc]"))
    assert "Lời nhắn: Đề nghị gửi báo cáo trong ngày hôm nay." in text(nudge)
    [digest] = [m for m in mailbox.to(operator) if m["Subject"].startswith("[Tổng hợp]")]
    assert f"- {names['SNGV']} (SNGV)" in text(digest) and f"- {names['STP']} (STP)" in text(digest)
    assert "(CA)" not in text(digest) and "(BTG)" not in text(digest)
    [published] = [m for m in mine if m["X-Envelope-To"] == national]
    assert "http://consolidation.test/tong-hop/95/2019-06" in text(published)
    assert published.get_body(("html",)) is not None

    # The operator account named in the contacts finds the digest and the approval in its in-app inbox.
    assert inbox.status_code == 200, inbox.text
    titles = sorted(m["title"] for m in inbox.json() if "06/2019" in m["title"])
    assert titles == sorted(
        [
            "[Tổng hợp] 2 đơn vị chưa gửi báo cáo tháng 06/2019",
            f"[Đã duyệt] Báo cáo tổng hợp tháng 06/2019 của {province.name}",
            *[f"[Nhắc hạn] Báo cáo tổng hợp tháng 06/2019 của {province.name}: hạn 00:00 ngày 20/06/2019"] * 2,
            *[f"[Quá hạn] {province.name} chưa gửi báo cáo tổng hợp tháng 06/2019"] * 3,
        ]
    )


def report(plan, province_name: str) -> ConsolidatedReportV1:
    return ConsolidatedReportV1(
        province=PROVINCE, province_name=province_name, plan_id=plan.id, plan_number=plan.number, period=PERIOD,
        status="published", revision=1, issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN", place_name="Hải Dương",
        title="Báo cáo kết quả tháng 06/2019", number_code="/BC-BCĐNQ", recipients=[], signer_position="TRƯỞNG BAN",
        signer_name="", totals={}, tasks=[], units=[], difficulties=[], next_month=[], closing_labels={},
        discipline=DisciplineV1(expected=4, on_time=2, late=1, missing=1, pending=0),
        approved_at=utc("2019-06-26T09:00:00+07:00"), published_at=utc("2019-06-26T10:00:00+07:00"),
        approved_by=f"op-{PROVINCE}", published_by=f"op-{PROVINCE}",
    )  # fmt: skip
