"""A published report goes to every addressee of its Nơi nhận that has a contact, with the signed PDF attached.

Hải Dương's plan (its Nơi nhận: the national standing office, the committee head's office mailbox, the
members and districts, and a "Lưu" line that is only printed) under a code no other test uses, its units'
mailboxes this test's own. consolidation's outbox is played by the test: report.document_issued for the signed
PDF and the DOCX, then report.published, under the province's key, on the shared broker. notify mails a real
SMTP server (aiosmtpd); the same records sent again change nothing.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED, AddresseeV1, ContactV1
from baocao_shared.events.reports import (
    REPORT_DOCUMENT_ISSUED,
    REPORT_PUBLISHED,
    ConsolidatedReportV1,
    DisciplineV1,
    DocumentIssuedV1,
    DocumentRefV1,
)
from baocao_testing.kit import SmtpMailbox, wait_until
from intake.domain.catalog import parse_province_file
from notify.adapters import orm
from notify.consumers import GROUP
from notify.main import create_app
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[4]
HAI_DUONG = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8"))
PROVINCE = "86"  # Hải Dương's plan and units under a code no other test uses
PERIOD = "2019-06"
NUMBER = "3/BC-BCĐNQ"
PUBLISHED_AT = datetime(2019, 6, 26, 3, tzinfo=UTC)
PDF = b"%PDF-1.7\n% the signed report\n" + bytes(range(256)) * 64
DOCX = b"PK\x03\x04 the report as Word"


async def test_each_addressee_with_a_contact_gets_the_signed_pdf_once(postgres, kafka):
    tag = uuid.uuid4().hex[:6]
    domain = f"hd-{tag}.baocao.test"
    national, head = f"vptt@{domain}", f"vanphong.bcdnq@{domain}"
    # Every unit its own mailbox; Sở Tư pháp also an in-app inbox, Ban Tuyên giáo no contact at all.
    units = []
    for u in HAI_DUONG.units:
        contacts = [] if u.code == "BTG" else [given.email(f"vanthu.{u.code.lower()}@{domain}")]
        if u.code == "STP":
            contacts.append(ContactV1(channel="inbox", address=f"stp-{tag}"))
        units.append(u.model_copy(update={"province": PROVINCE, "contacts": contacts}))
    plan = HAI_DUONG.plans[0]
    layout = plan.report.model_copy(update={"addressees": [_ours(a, head) for a in plan.report.addressees]})
    plan = plan.model_copy(update={"id": f"noi-nhan-{tag}", "province": PROVINCE, "report": layout})
    province = HAI_DUONG.province.model_copy(update={"code": PROVINCE})
    pdf, docx = _issued(plan.id, "pdf", PDF), _issued(plan.id, "docx", DOCX)

    # Each recipient with a contact: exactly one delivery, named by its line of Nơi nhận or its unit.
    by_unit = {u.code: u for u in units}
    wanted = Counter(
        {
            ("Văn phòng Thường trực BCĐNQ của Chính phủ", "email", national, None): 1,
            ("Văn phòng Thường trực BCĐNQ của Chính phủ", "inbox", "national", None): 1,
            ("Trưởng Ban chỉ đạo Nhân quyền tỉnh", "email", head, None): 1,
            ("Sở Tư pháp", "inbox", f"stp-{tag}", "STP"): 1,
            **{
                (by_unit[code].name, "email", f"vanthu.{code.lower()}@{domain}", code): 1
                for code in plan.units
                if code != "BTG"
            },
        }
    )

    mailbox = SmtpMailbox()
    smtp = given.started_smtp(mailbox)
    settings = await given.notify_settings(
        postgres, kafka, mail_to=smtp, service_urls={"consolidation": "http://consolidation.test"},
        national_contacts=[given.email(national), ContactV1(channel="inbox", address="national")],
    )  # fmt: skip
    app, group = create_app(settings), f"{settings.consumer_group_prefix}{GROUP}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    sent: list[tuple[str, bytes, bytes]] = []  # (topic, key, value) of the report's records, to send again

    async def publish(spec, data, *, keep: bool = False):
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE)
        if keep:
            sent.append((spec.topic, key.encode(), event.to_bytes()))
        return await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    async def deliveries() -> list:
        return await given.deliveries_of(app, plan.id)

    try:
        async with app.router.lifespan_context(app):
            await publish(PROVINCE_UPSERTED, province)
            for unit in units:
                await publish(UNIT_UPSERTED, unit)
            await publish(PLAN_UPSERTED, plan)
            # consolidation's outbox, in its order: each document, then the report, under the province's key.
            await publish(REPORT_DOCUMENT_ISSUED, pdf, keep=True)
            await publish(REPORT_DOCUMENT_ISSUED, docx, keep=True)
            await publish(REPORT_PUBLISHED, _report(plan, province.name, pdf, docx), keep=True)

            async def all_sent():
                rows = await deliveries()
                return len(rows) >= wanted.total() and all(r.status == "sent" for r in rows) and rows

            rows = await wait_until(all_sent, timeout=120, what="the published report to reach every addressee")

            # The same records again (a replay, a redelivery): nothing more is kept or sent.
            for topic, key, value in sent:
                last = await producer.send_and_wait(topic, value=value, key=key)
            await given.consumed_through(kafka.bootstrap, group, last, what="notify to read the report's copy")
            again = await deliveries()
            documents = await _documents(app, pdf.sha256, docx.sha256)
    finally:
        smtp.stop()
        await producer.stop()

    assert Counter((r.recipient_label, r.channel, r.recipient, r.unit) for r in rows) == wanted
    assert not [r for r in rows if r.unit == "BTG" or (r.recipient_label or "").startswith("Lưu")]
    assert {(r.document_sha256, r.document_filename) for r in rows} == {(pdf.sha256, pdf.filename)}

    # Every mail reached the server once, with the signed PDF attached: the same bytes.
    ours = {f"<{r.id}@baocao.notify>": r for r in rows if r.channel == "email"}
    mails = [m for m in mailbox.messages if m["Message-ID"] in ours]
    assert sorted(m["Message-ID"] for m in mails) == sorted(ours)
    for mail in mails:
        assert mail["Subject"] == f"[Đã gửi] Báo cáo tháng 06/2019 của {province.name} (số {NUMBER})"
        [attachment] = mail.iter_attachments()
        assert (attachment.get_content_type(), attachment.get_filename()) == ("application/pdf", pdf.filename)
        assert hashlib.sha256(attachment.get_content()).hexdigest() == pdf.sha256
        text = SmtpMailbox.text_of(mail)
        assert text.startswith(f"Kính gửi: {ours[mail['Message-ID']].recipient_label},")
        assert f"số {NUMBER}" in text and f"gửi kèm thư này (tệp {pdf.filename})" in text
    assert not mailbox.to(f"vanthu.btg@{domain}")
    # The in-app inbox gets the link instead of the file.
    [inbox] = [r for r in rows if r.recipient == f"stp-{tag}"]
    assert f"http://consolidation.test/tong-hop/{PROVINCE}/{PERIOD}" in inbox.body_text
    assert "gửi kèm" not in inbox.body_text

    assert sorted(r.id for r in again) == sorted(r.id for r in rows)
    assert documents == {pdf.sha256: (PDF, "application/pdf"), docx.sha256: (DOCX, docx.media_type)}


def _ours(addressee: AddresseeV1, head: str) -> AddresseeV1:
    """The plan's line, its inline contacts moved to this test's mailbox."""
    contacts = [c.model_copy(update={"address": head}) for c in addressee.contacts]
    return addressee.model_copy(update={"contacts": contacts})


def _issued(plan_id: str, kind: str, content: bytes) -> DocumentIssuedV1:
    media = {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    return DocumentIssuedV1(
        province=PROVINCE, plan_id=plan_id, period=PERIOD, number=NUMBER, kind=kind, media_type=media[kind],
        filename=f"3-BC-BCDNQ-{PERIOD}.{kind}", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
        signed_by="CN=Ban Chỉ đạo Nhân quyền tỉnh" if kind == "pdf" else None, published_at=PUBLISHED_AT,
        content_base64=base64.b64encode(content).decode(),
    )  # fmt: skip


def _report(plan, province_name: str, *documents: DocumentIssuedV1) -> ConsolidatedReportV1:
    layout = plan.report
    return ConsolidatedReportV1(
        province=PROVINCE, province_name=province_name, plan_id=plan.id, plan_number=plan.number, period=PERIOD,
        status="published", revision=1, issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN", place_name="Hải Dương",
        title="Báo cáo kết quả tháng 06/2019", number_code=layout.number_code, recipients=layout.recipients,
        signer_position="TRƯỞNG BAN", signer_name="", totals={}, tasks=[], units=[], difficulties=[], next_month=[],
        closing_labels={}, discipline=DisciplineV1(expected=len(plan.units), on_time=0, late=0, missing=0, pending=0),
        approved_at=PUBLISHED_AT, published_at=PUBLISHED_AT, approved_by=f"op-{PROVINCE}",
        published_by=f"op-{PROVINCE}", number=NUMBER, addressees=layout.addressees, signed_by=documents[0].signed_by,
        documents=[DocumentRefV1(**d.model_dump(include=set(DocumentRefV1.model_fields))) for d in documents],
    )  # fmt: skip


async def _documents(app, *digests: str) -> dict[str, tuple[bytes, str]]:
    """sha256 -> (bytes, media type) of the documents notify keeps, of these."""
    async with app.state.runtime.sessionmaker() as session:
        d = orm.documents.c
        rows = (await session.execute(select(d.sha256, d.content, d.media_type).where(d.sha256.in_(digests)))).all()
    return {row.sha256: (row.content, row.media_type) for row in rows}
