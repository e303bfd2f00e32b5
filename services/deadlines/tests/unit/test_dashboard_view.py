"""The dashboard's wording: how late, rates, the deadline in local time, and which period it opens on."""

from datetime import UTC, datetime
from types import SimpleNamespace

from deadlines.handlers.dashboard import default_period
from deadlines.web.dashboard import deadline_text, late_text, percent, share, summary_figures
from deadlines.web.routes import nudge_flash


def test_how_late_a_first_submission_came_in_days_hours_and_minutes():
    assert late_text(None) == ""
    assert late_text(33 * 3600 + 30 * 60) == "muộn 1 ngày 9 giờ 30 phút"
    assert late_text(3600) == "muộn 1 giờ"
    assert late_text(2 * 86400 + 59) == "muộn 2 ngày"
    assert late_text(0) == "muộn dưới 1 phút"


def test_rates_are_percentages_with_one_decimal_and_a_decimal_comma():
    assert percent(0.6667) == "66,7%"
    assert percent(0.5) == "50,0%"
    assert percent(0.0) == "0,0%"
    assert percent(1.0) == "100,0%"


def test_a_share_is_rounded_once_from_the_counts():
    assert share(1, 29) == "3,4%"  # 3.448%; from the 4-place rate 0.0345 it would read 3,5%
    assert share(2, 3) == "66,7%"
    assert share(0, 0) == "0,0%"


def test_the_deadline_of_june_2019_reads_in_hai_duong_time():
    due = datetime(2019, 6, 15, 17, tzinfo=UTC)
    assert deadline_text(due, "Asia/Ho_Chi_Minh") == "trước 00:00 ngày 16/06/2019"


def test_the_page_opens_on_the_newest_period_already_due_else_the_newest():
    def opened(*codes_and_due):
        return [SimpleNamespace(period=c, due_at=d) for c, d in codes_and_due]

    periods = opened(
        ("2019-07", datetime(2019, 7, 15, 17, tzinfo=UTC)), ("2019-06", datetime(2019, 6, 15, 17, tzinfo=UTC))
    )
    assert default_period(periods, datetime(2019, 6, 20, tzinfo=UTC)) == "2019-06"
    assert default_period(periods, datetime(2019, 7, 15, 17, tzinfo=UTC)) == "2019-07"
    assert default_period(periods[:1], datetime(2019, 6, 20, tzinfo=UTC)) == "2019-07"
    assert default_period([], datetime(2019, 6, 20, tzinfo=UTC)) is None


def test_the_summary_names_each_figure_in_vietnamese():
    summary = {"expected": 6, "on_time": 3, "late": 1, "missing": 2, "pending": 0}
    figures = summary_figures(summary | {"reporting_rate": 0.6667, "on_time_rate": 0.5})
    assert [(f.label, f.value) for f in figures] == [
        ("Số đơn vị phải báo cáo", "6"),
        ("Đúng hạn", "3"),
        ("Muộn", "1"),
        ("Chưa nộp (quá hạn)", "2"),
        ("Chưa đến hạn", "0"),
        ("Tỷ lệ báo cáo", "66,7%"),
        ("Tỷ lệ đúng hạn", "50,0%"),
    ]


def test_the_flash_after_a_nudge_counts_the_units_and_names_those_skipped():
    assert nudge_flash(["STP", "SYT"], []) == "Đã gửi nhắc nhở tới 2 đơn vị."
    skipped = [{"unit": "CA", "reason": "already_submitted"}]
    assert nudge_flash(["STP"], skipped) == "Đã gửi nhắc nhở tới 1 đơn vị. Không gửi cho 1 đơn vị đã nộp báo cáo: CA."
    many = [{"unit": f"U{n}", "reason": "already_submitted"} for n in range(12)]
    assert nudge_flash([], many).endswith(
        "Không gửi cho 12 đơn vị đã nộp báo cáo: U0, U1, U2, U3, U4, U5, U6, U7, U8, U9, …."
    )
