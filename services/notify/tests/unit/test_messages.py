"""The Vietnamese notices: who they name, the deadline on the province's clock, how late."""

from datetime import UTC, datetime

from notify.domain.wording import lateness, local_time, period_label
from notify.messages import render

DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)  # 00:00 on 16/06/2019 in Hà Nội


def test_the_deadline_is_said_in_local_time():
    assert local_time(DUE) == "00:00 ngày 16/06/2019"
    assert period_label("2019-06") == "tháng 06/2019"


def test_lateness_counts_days_then_hours():
    assert lateness(2 * 86400 + 3600) == "đã quá hạn 2 ngày"
    assert lateness(5 * 3600) == "đã quá hạn 5 giờ"
    assert lateness(None) is None


def test_a_reminder_names_the_unit_the_period_and_the_deadline():
    message = render(
        "reminder", unit_name="Sở Y tế", period="2019-06", due_at=DUE, late_by_s=None, message=None,
        link="http://intake/dang-nhap",
    )  # fmt: skip
    assert message.subject == "[Nhắc hạn] Báo cáo tháng 06/2019 của Sở Y tế: hạn 00:00 ngày 16/06/2019"
    for body in (message.text, message.html):
        assert "Sở Y tế" in body and "00:00 ngày 16/06/2019" in body and "http://intake/dang-nhap" in body


def test_an_overdue_notice_says_how_late():
    message = render(
        "overdue", unit_name="Sở Nội vụ", period="2019-06", due_at=DUE, late_by_s=2 * 86400 + 28800, message=None
    )
    assert "đã quá hạn 2 ngày" in message.text
    assert message.subject.startswith("[Quá hạn] Sở Nội vụ")


def test_the_escalation_lists_every_missing_unit_and_escapes_html():
    message = render(
        "escalation",
        province_name="Hải Dương",
        period="2019-06",
        due_at=DUE,
        fire_at=datetime(2019, 6, 16, 1, 0, tzinfo=UTC),
        expected=30,
        missing_units=[{"unit": "SYT", "unit_name": "Sở Y tế"}, {"unit": "X", "unit_name": "<Ban> & Co"}],
        link="http://deadlines/tien-do?province=30",
    )
    assert message.subject == "[Tổng hợp] 2 đơn vị chưa gửi báo cáo tháng 06/2019"
    assert "- Sở Y tế (SYT)" in message.text and "08:00 ngày 16/06/2019" in message.text
    assert "&lt;Ban&gt; &amp; Co" in message.html
