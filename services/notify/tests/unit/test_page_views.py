"""The deliveries page's wording and addresses: kinds, statuses, filter links, pages, the way back."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from notify.domain import delivery
from notify.web import views
from notify.web.views import ListQuery, counts, delivery_row, local_path, pager


def test_each_cause_reads_as_the_staff_office_calls_it_and_times_are_local():
    row = SimpleNamespace(
        id=uuid.uuid4(), created_at=datetime(2019, 6, 15, 17, tzinfo=UTC), cause_type="vn.baocao.escalation.raised.v1",
        unit=None, period="2019-06", channel="inbox", recipient="op", subject="s", status="failed", attempts=6,
        sent_at=None, last_error="x" * 300, body_text="b", recipient_label=None, document_filename=None,
    )  # fmt: skip
    shown = delivery_row(row, timezone="Asia/Ho_Chi_Minh", unit_names={})
    assert (shown.created, shown.kind, shown.channel, shown.badge.label, shown.badge.symbol) == (
        "16/06/2019 00:00", "Tổng hợp chưa nộp", "Hộp thư", "Thất bại", "✗",
    )  # fmt: skip
    assert len(shown.short_reason) == 240 and shown.short_reason.endswith("…") and len(shown.reason) == 300
    sent = delivery_row(
        SimpleNamespace(**{**row.__dict__, "status": "sent", "cause_type": "vn.baocao.report.published.v1"}),
        timezone="Asia/Ho_Chi_Minh",
        unit_names={},
    )
    assert (sent.kind, sent.reason) == ("Báo cáo đã gửi", None)


def test_a_published_reports_row_names_its_recipient_and_says_whether_the_pdf_went_attached():
    row = SimpleNamespace(
        id=uuid.uuid4(), created_at=datetime(2019, 6, 26, 3, tzinfo=UTC), cause_type="vn.baocao.report.published.v1",
        unit="STP", period="2019-06", channel="email", recipient="vanthu@stp.test", subject="s", status="sent",
        attempts=1, sent_at=datetime(2019, 6, 26, 3, tzinfo=UTC), last_error=None, body_text="b",
        recipient_label="Sở Tư pháp", document_filename="3-BC-BCDNQ.pdf",
    )  # fmt: skip
    mailed = delivery_row(row, timezone="Asia/Ho_Chi_Minh", unit_names={"STP": "Sở Tư pháp"})
    assert (mailed.label, mailed.document, mailed.attached) == ("Sở Tư pháp", "3-BC-BCDNQ.pdf", True)
    linked = delivery_row(
        SimpleNamespace(**{**row.__dict__, "channel": "inbox"}), timezone="Asia/Ho_Chi_Minh", unit_names={}
    )
    assert (linked.document, linked.attached) == ("3-BC-BCDNQ.pdf", False)


def test_filter_links_keep_the_other_filters_and_a_second_click_lifts_one():
    query = ListQuery(province="30", period="2019-06", status="failed", page=3)
    assert query.url() == "/thong-bao?province=30&period=2019-06&status=failed&page=3"
    links = {c.badge.status: (c.href, c.current) for c in counts(query, {"pending": 1, "sent": 2, "failed": 3})}
    assert links == {
        "pending": ("/thong-bao?province=30&period=2019-06&status=pending", False),
        "sent": ("/thong-bao?province=30&period=2019-06&status=sent", False),
        "failed": ("/thong-bao?province=30&period=2019-06", True),
    }


def test_pages_of_fifty_newest_first():
    first = pager(ListQuery(province="30"), 50, 120)
    assert (first.first, first.last, first.newer, first.older) == (1, 50, None, "/thong-bao?province=30&page=2")
    last = pager(ListQuery(province="30", page=3), 20, 120)
    assert (last.first, last.last, last.newer, last.older) == (101, 120, "/thong-bao?province=30&page=2", None)
    assert pager(ListQuery(province="30"), 0, 0).first == 0


def test_a_form_goes_back_only_to_the_list_on_this_site():
    assert local_path("/thong-bao?province=30&status=failed", "/thong-bao") == "/thong-bao?province=30&status=failed"
    for elsewhere in ("https://evil.example/", "//evil.example/thong-bao", "/thong-bao-gia", "/thong-bao?\r\nX: y"):
        assert local_path(elsewhere, "/thong-bao") is None


def test_every_channel_and_status_has_its_vietnamese_label():
    assert set(views.CHANNELS) == set(delivery.CHANNELS)
    assert set(views.STATUSES) == set(delivery.STATUSES)
