from datetime import UTC, datetime
from pathlib import Path

from intake.domain.catalog import parse_province_file
from intake.domain.submissions import (
    changes,
    check_content,
    check_period,
    clean_narratives,
    indicator_codes,
    request_fingerprint,
)

REPO = Path(__file__).resolve().parents[4]
PLAN = parse_province_file((REPO / "deploy/provinces/30-hai-duong.yaml").read_text(encoding="utf-8")).plans[0]
TZ = "Asia/Ho_Chi_Minh"
ALL_ZERO = {code: 0 for code in indicator_codes(PLAN)}  # the nine of plan 467 (test_catalog_file)


def types(problems) -> dict[tuple, str]:
    return {p.loc: p.type for p in problems}


def test_a_complete_report_passes():
    assert check_content(PLAN, {**ALL_ZERO, "t1_sessions": 3}, {"T1": "Ba hội nghị", "next_month": "..."}) == []


def test_each_bad_field_is_named_with_a_vietnamese_message():
    values = {**ALL_ZERO, "t1_sessions": -1, "t2_campaigns": 2.5, "t5_articles": True, "bogus": 1}
    del values["t3_updates_sent"]
    problems = check_content(PLAN, values, {"T9": "x", "T1": 5})
    assert types(problems) == {
        ("values", "t1_sessions"): "negative_figure",
        ("values", "t2_campaigns"): "not_an_integer",
        ("values", "t5_articles"): "not_an_integer",
        ("values", "bogus"): "unknown_indicator",
        ("values", "t3_updates_sent"): "missing_figure",
        ("narratives", "T9"): "unknown_section",
        ("narratives", "T1"): "not_text",
    }
    negative = next(p for p in problems if p.type == "negative_figure")
    assert negative.msg == "Số liệu không được âm."


def test_periods_outside_the_plan_or_not_yet_open_are_refused():
    june = datetime(2019, 6, 10, tzinfo=UTC)
    assert check_period(PLAN, "2019-06", TZ, june)[1] == []
    assert types(check_period(PLAN, "2019-05", TZ, june)[1]) == {("period",): "period_outside_plan"}
    assert check_period(PLAN, "2019-13", TZ, june)[0] is None
    assert types(check_period(PLAN, "2019-13", TZ, june)[1]) == {("period",): "period_format"}
    # July's window opens on 15 June, local time.
    assert types(check_period(PLAN, "2019-07", TZ, june)[1]) == {("period",): "period_not_open"}
    assert check_period(PLAN, "2019-07", TZ, datetime(2019, 6, 14, 17, 0, tzinfo=UTC))[1] == []


def test_amendment_changes_name_the_figures_and_sections_that_moved():
    diff = changes({"a": 1, "b": 2}, {"T1": "x"}, {"a": 1, "b": 3}, {"T1": "y", "T2": "z"})
    assert diff == {"figures": {"b": {"from": 2, "to": 3}}, "narratives": ["T1", "T2"]}


def test_fingerprints_ignore_key_order_and_narratives_are_trimmed():
    assert request_fingerprint({"a": 1, "b": {"x": 1, "y": 2}}) == request_fingerprint({"b": {"y": 2, "x": 1}, "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})
    assert clean_narratives({"T1": "  nội dung  ", "T2": "   "}) == {"T1": "nội dung"}
