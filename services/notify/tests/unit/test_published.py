"""A published report to its Nơi nhận: the signed PDF to each contact of each addressee, named in the log by its
line or unit, once; waiting for the plan, units or province it needs; never mailed without its PDF. And the
documents notify keeps from report.document_issued. The use cases on in-memory repositories."""

import base64
import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from baocao_shared.events.catalog import AddresseeV1, ContactV1, PlanV1, ProvinceV1, UnitV1
from baocao_shared.events.reports import (
    REPORT_PUBLISHED,
    ConsolidatedReportV1,
    DisciplineV1,
    DocumentIssuedV1,
    DocumentRefV1,
)
from notify.config import Settings
from notify.consumers import notice_use_cases
from notify.domain.errors import DocumentDoesNotMatch, DocumentNotKept
from notify.handlers import catalog
from notify.handlers.documents import document_issued
from services.notify.tests.unit.fakes import FakeNotifyUnitOfWork

PDF = b"%PDF-1.7\n% signed\n" + bytes(range(256))
DOCX = b"PK\x03\x04 docx"
NATIONAL = [ContactV1(channel="email", address="vptt@chinhphu.test"), ContactV1(channel="inbox", address="national")]
HEAD = "vanphong.bcdnq@haiduong.baocao.test"
ADDRESSEES = [
    AddresseeV1(label="Văn phòng Thường trực BCĐNQ của Chính phủ;", reach="national"),
    AddresseeV1(
        label="Trưởng Ban chỉ đạo Nhân quyền tỉnh (để báo cáo);", reach="contacts",
        contacts=[ContactV1(channel="email", address=HEAD, label="Văn phòng Ban chỉ đạo")],
    ),
    AddresseeV1(label="Thành viên BCĐNQ tỉnh, UBND các huyện, thành phố;", reach="units"),
]  # fmt: skip
# The consumer's own map, which also delivers the reports released from waiting.
TOLD = notice_use_cases(
    Settings(
        database_url="postgresql+asyncpg://u@127.0.0.1/x",
        service_urls={"consolidation": "http://c.test"},
        national_contacts=NATIONAL,
    )
)


def issued(kind: str, content: bytes, **changes) -> DocumentIssuedV1:
    media = {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    values = dict(
        province="30", plan_id="467", period="2019-06", number="3/BC-BCĐNQ", kind=kind, media_type=media[kind],
        filename=f"3-BC-BCDNQ-2019-06.{kind}", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
        signed_by="CN=Ban Chỉ đạo", published_at=datetime(2019, 6, 26, 3, tzinfo=UTC),
        content_base64=base64.b64encode(content).decode(),
    )  # fmt: skip
    return DocumentIssuedV1(**{**values, **changes})


ISSUED = (issued("pdf", PDF), issued("docx", DOCX))


def ref(document: DocumentIssuedV1) -> DocumentRefV1:
    return DocumentRefV1(**document.model_dump(include={"kind", "media_type", "filename", "sha256", "size"}))


def report(*addressees: AddresseeV1, documents: tuple = ISSUED) -> ConsolidatedReportV1:
    """Hải Dương's June 2019 report as consolidation publishes it (whole: a report that waits is kept as JSON)."""
    at = datetime(2019, 6, 26, 3, tzinfo=UTC)
    return ConsolidatedReportV1(
        province="30", province_name="Tỉnh Hải Dương", plan_id="467", plan_number="467/KH-BCĐNQ", period="2019-06",
        status="published", revision=1, issuing_body="BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH", place_name="Hải Dương",
        title="Báo cáo tháng 06/2019", number_code="BC-BCĐNQ", recipients=[a.label for a in addressees],
        signer_position="TRƯỞNG BAN", signer_name="", totals={}, tasks=[], units=[], difficulties=[], next_month=[],
        closing_labels={}, discipline=DisciplineV1(expected=2, on_time=2, late=0, missing=0, pending=0),
        approved_at=at, published_at=at, number="3/BC-BCĐNQ", addressees=list(addressees),
        documents=[ref(d) for d in documents],
    )  # fmt: skip


def plan(*units: str) -> PlanV1:
    return PlanV1.model_construct(province="30", id="467", units=list(units), active=True)


def unit(code: str, name: str, *addresses: str) -> UnitV1:
    contacts = [ContactV1(channel="email", address=a) for a in addresses]
    return UnitV1(province="30", code=code, name=name, kind="member", contacts=contacts)


def province() -> ProvinceV1:
    operators = [ContactV1(channel="email", address="thuongtruc@hd.test")]
    return ProvinceV1(code="30", name="Tỉnh Hải Dương", issuing_body="BCĐ", place_name="Hải Dương",
                      operator_contacts=operators)  # fmt: skip


async def kept_documents(uow: FakeNotifyUnitOfWork) -> None:
    for document in ISSUED:
        await document_issued(uow, document)


def logged(uow: FakeNotifyUnitOfWork) -> set[tuple]:
    """(label, channel, recipient, unit, document file) of every recorded delivery."""
    return {
        (d.recipient_label, d.channel, d.recipient, d.unit, d.document_filename) for d in uow.deliveries.rows.values()
    }


async def publish(uow: FakeNotifyUnitOfWork, data: ConsolidatedReportV1, cause=None) -> int:
    cause = cause or TOLD.cause(uuid.uuid4(), REPORT_PUBLISHED.type)
    return await TOLD.use_cases[REPORT_PUBLISHED.type](uow, data, cause=cause)


async def test_each_contact_of_each_addressee_gets_the_signed_pdf_once():
    uow = FakeNotifyUnitOfWork()
    await kept_documents(uow)
    await uow.catalog.upsert_plan(plan("STP", "BTG", "CA"))
    for u in (unit("STP", "Sở Tư pháp", "vanthu@stp.test"), unit("BTG", "Ban Tuyên giáo", "btg@hd.test"),
              unit("CA", "Công an tỉnh")):  # fmt: skip
        await uow.catalog.upsert_unit(u)
    cause = TOLD.cause(uuid.uuid4(), REPORT_PUBLISHED.type)

    assert await publish(uow, report(*ADDRESSEES), cause) == 5
    assert await publish(uow, report(*ADDRESSEES), cause) == 0  # a second copy of the event adds nothing

    pdf = "3-BC-BCDNQ-2019-06.pdf"
    assert logged(uow) == {
        ("Văn phòng Thường trực BCĐNQ của Chính phủ", "email", "vptt@chinhphu.test", None, pdf),
        ("Văn phòng Thường trực BCĐNQ của Chính phủ", "inbox", "national", None, pdf),
        ("Trưởng Ban chỉ đạo Nhân quyền tỉnh", "email", HEAD, None, pdf),
        ("Sở Tư pháp", "email", "vanthu@stp.test", "STP", pdf),
        ("Ban Tuyên giáo", "email", "btg@hd.test", "BTG", pdf),
    }
    rows = {d.recipient: d for d in uow.deliveries.rows.values()}
    assert {d.document_sha256 for d in rows.values()} == {hashlib.sha256(PDF).hexdigest()}
    mail, inbox = rows["vanthu@stp.test"], rows["national"]
    assert mail.subject == "[Đã gửi] Báo cáo tháng 06/2019 của Tỉnh Hải Dương (số 3/BC-BCĐNQ)"
    assert mail.body_text.startswith("Kính gửi: Sở Tư pháp,")
    assert "số 3/BC-BCĐNQ" in mail.body_text and f"gửi kèm thư này (tệp {pdf})" in mail.body_text
    assert "gửi kèm" not in inbox.body_text and "http://c.test/tong-hop/30/2019-06?plan_id=467" in inbox.body_text


async def test_a_report_waits_for_its_plan_then_for_a_unit_and_is_delivered_once_released():
    uow = FakeNotifyUnitOfWork()
    await kept_documents(uow)
    await uow.catalog.upsert_unit(unit("STP", "Sở Tư pháp", "vanthu@stp.test"))
    assert await publish(uow, report(*ADDRESSEES)) == 0
    assert uow.waiting.plans_awaited() == {REPORT_PUBLISHED.type: "467"} and uow.deliveries.rows == {}

    # The plan names a unit the catalogue does not know yet: the report waits again, for it.
    assert await catalog.plan_upserted(uow, plan("STP", "TM"), notices=TOLD) == 0
    assert uow.waiting.waiting_for() == {REPORT_PUBLISHED.type: "TM"}

    assert await catalog.unit_upserted(uow, unit("TM", "UBND huyện Thanh Miện", "tm@hd.test"), notices=TOLD) == 5
    assert uow.waiting.rows == {}
    assert {(label, recipient) for label, _, recipient, _, _ in logged(uow)} >= {
        ("Sở Tư pháp", "vanthu@stp.test"),
        ("UBND huyện Thanh Miện", "tm@hd.test"),
    }


async def test_a_staff_office_line_waits_for_the_province_and_reaches_its_operators():
    uow = FakeNotifyUnitOfWork()
    await kept_documents(uow)
    office = AddresseeV1(label="Cơ quan thường trực;", reach="operators")
    assert await publish(uow, report(office)) == 0
    assert uow.waiting.waiting_for() == {REPORT_PUBLISHED.type: None}
    assert await catalog.province_upserted(uow, province(), notices=TOLD) == 1
    assert logged(uow) == {("Cơ quan thường trực", "email", "thuongtruc@hd.test", None, "3-BC-BCDNQ-2019-06.pdf")}


async def test_an_older_report_without_addressees_nor_documents_goes_to_the_national_office_without_attachment():
    uow = FakeNotifyUnitOfWork()
    assert await publish(uow, report(documents=())) == 2
    assert logged(uow) == {
        ("Văn phòng Thường trực", "email", "vptt@chinhphu.test", None, None),
        ("Văn phòng Thường trực", "inbox", "national", None, None),
    }
    assert all("ký số" not in d.body_text for d in uow.deliveries.rows.values())


async def test_without_the_signed_pdfs_bytes_the_handling_fails_and_nothing_is_recorded():
    uow = FakeNotifyUnitOfWork()
    await document_issued(uow, issued("docx", DOCX))  # the PDF's own event never came
    with pytest.raises(DocumentNotKept):
        await publish(uow, report(*ADDRESSEES))
    assert uow.deliveries.rows == {} and uow.waiting.rows == {}


async def test_a_document_is_kept_once_by_its_digest_and_refused_when_its_bytes_are_not_what_it_says():
    uow = FakeNotifyUnitOfWork()
    await document_issued(uow, issued("pdf", PDF))
    await document_issued(uow, issued("pdf", PDF))  # a replay
    [kept] = uow.documents.rows.values()
    assert (kept.content, kept.filename, kept.media_type) == (PDF, "3-BC-BCDNQ-2019-06.pdf", "application/pdf")

    with pytest.raises(DocumentDoesNotMatch, match="another SHA-256"):
        await document_issued(uow, issued("pdf", PDF, content_base64=base64.b64encode(b"tampered").decode()))
    with pytest.raises(DocumentDoesNotMatch, match="not base64"):
        await document_issued(uow, issued("pdf", PDF, content_base64="%%%"))
    assert len(uow.documents.rows) == 1
