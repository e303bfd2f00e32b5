"""The mail as a reader's client sees it: the Vietnamese subject keeps every space, both parts present."""

import email
import email.policy
import uuid
from types import SimpleNamespace

import pytest

from notify.adapters.channels import EmailChannel
from notify.config import Settings

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
