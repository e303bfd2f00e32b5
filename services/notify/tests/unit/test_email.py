"""The mail as a reader's client sees it: the Vietnamese subject keeps every space, both parts present, and a
document it carries attached under its name."""

import email
import email.policy
import hashlib
import uuid
from types import SimpleNamespace

import pytest

from notify.adapters.channels import EmailChannel
from notify.config import Settings
from notify.domain.documents import Document

SUBJECTS = [
    "[Quá hạn] Sở Ngoại vụ chưa gửi báo cáo tháng 06/2019",
    "[Nhắc hạn] Báo cáo tháng 06/2019 của Ủy ban nhân dân huyện Thanh Miện: hạn 00:00 ngày 16/06/2019",
    "[Tổng hợp] 2 đơn vị chưa gửi báo cáo tháng 06/2019",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_long_vietnamese_subject_survives_folding(subject):
    delivery = SimpleNamespace(
        id=uuid.uuid4(),
        recipient="vanthu.sngv@haiduong.baocao.test",
        subject=subject,
        body_text="Kính gửi: Sở Ngoại vụ,\n\nHạn gửi báo cáo tháng 06/2019 là 00:00 ngày 16/06/2019.",
        body_html="<p>Kính gửi: Sở Ngoại vụ</p>",
    )
    wire = EmailChannel(Settings(database_url="postgresql+asyncpg://x@127.0.0.1/x")).compose(delivery).as_bytes()
    assert all(len(line) <= 998 for line in wire.split(b"\n"))
    assert wire.isascii()  # no SMTPUTF8 needed from the server

    read = email.message_from_bytes(wire, policy=email.policy.default)
    assert read["Subject"] == subject
    assert read["Message-ID"] == f"<{delivery.id}@baocao.notify>"
    assert str(read["Date"]).endswith("+0000")  # a known zone (GMT), not the unknown "-0000"
    assert read.get_body(("plain",)).get_content().startswith("Kính gửi: Sở Ngoại vụ,")
    assert read.get_body(("html",)).get_content().strip() == "<p>Kính gửi: Sở Ngoại vụ</p>"


def test_a_mail_with_a_document_is_multipart_mixed_and_carries_it_as_an_attachment_under_its_name():
    content = b"%PDF-1.7\n" + bytes(range(256)) * 4
    document = Document(
        sha256=hashlib.sha256(content).hexdigest(), province="30", plan_id="467", period="2019-06",
        number="3/BC-BCĐNQ", kind="pdf", media_type="application/pdf", filename="Báo cáo số 3-BC-BCĐNQ.pdf",
        size=len(content), content=content,
    )  # fmt: skip
    delivery = SimpleNamespace(
        id=uuid.uuid4(), recipient="vanthu@stp.test", subject="[Đã gửi] Báo cáo tháng 06/2019 của Tỉnh Hải Dương",
        body_text="Kính gửi: Sở Tư pháp,", body_html="<p>Kính gửi: Sở Tư pháp,</p>",
    )  # fmt: skip
    wire = EmailChannel(Settings(database_url="postgresql+asyncpg://x@127.0.0.1/x")).compose(delivery, document)
    read = email.message_from_bytes(wire.as_bytes(), policy=email.policy.default)

    assert read.get_content_type() == "multipart/mixed" and wire.as_bytes().isascii()
    assert read.get_body(("plain",)).get_content().startswith("Kính gửi: Sở Tư pháp,")
    [attachment] = read.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Báo cáo số 3-BC-BCĐNQ.pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == document.sha256
