"""What the unit's pages show, without I/O: periods and statuses, form reading, errors by field, safe redirects."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.datastructures import FormData

from intake.domain.catalog import parse_province_file
from intake.domain.errors import PeriodLocked, StaleVersion
from intake.web import views
from intake.web.pages import safe_next

HAI_DUONG = Path(__file__).resolve().parents[4] / "deploy" / "provinces" / "30-hai-duong.yaml"
PLAN = parse_province_file(HAI_DUONG.read_text(encoding="utf-8")).plans[0]
TZ = "Asia/Ho_Chi_Minh"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "periods"),
    [
        ("2019-06-10T03:00:00", ["2019-06"]),
        # 15 June 00:00 local is 14 June 17:00 UTC: July's window opens then.
        ("2019-06-14T16:59:00", ["2019-06"]),
        ("2019-06-14T17:00:00", ["2019-07", "2019-06"]),
        ("2019-09-01T00:00:00", ["2019-09", "2019-08", "2019-07", "2019-06"]),
        ("2019-05-01T00:00:00", []),
    ],
)
def test_the_periods_run_from_the_plans_first_to_the_open_one_newest_first(now, periods):
    assert [p.code for p in views.reportable_periods(PLAN, TZ, at(now))] == periods


def test_a_period_is_overdue_from_its_deadline_and_locked_wins_over_everything():
    before, after = at("2019-06-15T16:59:00"), at("2019-06-15T17:00:00")  # due_at = 16/06 00:00 local
    assert views.period_rows(PLAN, TZ, before, {}, set())[-1].status == "Chưa nộp"
    june = views.period_rows(PLAN, TZ, after, {}, set())[-1]
    assert (june.period, june.status, june.deadline) == ("2019-06", "Quá hạn, chưa nộp", "trước 00:00 ngày 16/06/2019")
    assert views.period_rows(PLAN, TZ, after, {}, {"2019-06"})[-1].status == "Đã khóa"


def test_a_posted_form_keeps_what_is_not_a_whole_number_for_the_rule_to_name():
    form = FormData(
        [
            ("v.t1_sessions", " 3 "),
            ("v.t1_participants", "-2"),
            ("v.t2_campaigns", "abc"),
            ("v.t2_publications", "--3"),
            ("v.t3_updates_sent", "1.5"),
            ("n.T1", "<b>Đã làm</b>"),
            ("v.not_in_template", "5"),
        ]
    )
    values, narratives, raw = views.read_form(PLAN, form)
    assert values == {
        "t1_sessions": 3,
        "t1_participants": -2,
        "t2_campaigns": "abc",
        "t2_publications": "--3",
        "t3_updates_sent": "1.5",
    }
    assert narratives["T1"] == "<b>Đã làm</b>" and set(narratives) == set(views.rules.narrative_keys(PLAN))
    assert raw["v-t2_campaigns"] == "abc" and "v-not_in_template" not in raw


def test_each_problem_lands_next_to_its_field_and_the_rest_in_the_summary():
    details = [
        {"loc": ["body", "values", "t2_campaigns"], "msg": "Số liệu phải là số nguyên."},
        {"loc": ["body", "narratives", "difficulties"], "msg": "Nội dung dài quá."},
        {"loc": ["body", "period"], "msg": "Kỳ 2019-05 nằm ngoài kế hoạch."},
    ]
    form = views.report_form(PLAN, {"v-t2_campaigns": "abc"}, details)
    campaigns = next(f for t in form.tasks for f in t.figures if f.id == "v-t2_campaigns")
    assert (campaigns.value, campaigns.error, campaigns.numeric) == ("abc", "Số liệu phải là số nguyên.", False)
    assert [f.id for f in form.closing] == ["n-difficulties", "n-next_month"]
    assert form.closing[0].error == "Nội dung dài quá."
    assert form.general_errors == ["Kỳ 2019-05 nằm ngoài kế hoạch."]
    assert [e[0] for e in form.errors] == ["v-t2_campaigns", "n-difficulties"]


def test_conflicts_are_explained_in_vietnamese():
    locked = PeriodLocked(province="30", plan_id=PLAN.id, period="2019-06")
    assert views.conflict_message(locked).startswith("Kỳ báo cáo này đã khóa")
    assert "phiên bản 3" in views.conflict_message(StaleVersion(current_version=3, base_version=2))


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("/bao-cao/hd-467-2019/2019-06?x=1", True),
        ("/", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/a\r\nSet-Cookie: x=1", False),
        ("", False),
        (None, False),
    ],
)
def test_only_paths_on_this_site_are_places_to_return_to(value, safe):
    assert safe_next(value) == (value if safe else None)
