"""When reminders, overdue notices, the escalation digest and the close fire (DOMAIN.md, "Reminders
and escalation"), and how an obligation is classified and summed (timeliness), as pure rules."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.events.catalog import CalendarV1
from baocao_testing.samples import PLAN_467_CALENDAR as PLAN_467
from baocao_testing.samples import TET_2021
from deadlines.domain.schedule import (
    Notice,
    deadline,
    fire_instant,
    last_day,
    period_notices,
    province_notices,
    unit_notices,
)
from deadlines.domain.timeliness import STATUSES, classify, counts_after_close, late_by_s, summarize
from services.deadlines.tests.unit.strategies import calendar_settings

TZ = "Asia/Ho_Chi_Minh"
HCM = ZoneInfo(TZ)

JUNE = parse_period("2019-06")


def plan(**changes) -> CalendarV1:
    return CalendarV1.model_validate({**PLAN_467, **changes})


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def as_local(notices: list[Notice]) -> list[tuple[str, int, int, datetime]]:
    """(kind, sequence, day offset, naive local wall time) of each notice, for readable expectations."""
    return [(n.kind, n.sequence, n.day_offset, n.fire_at.astimezone(HCM).replace(tzinfo=None)) for n in notices]


# --- the schedule of plan 467 --------------------------------------------------------------------


def test_the_last_day_of_2019_06_is_the_15th():
    assert last_day(JUNE, plan()) == date(2019, 6, 15)
    assert deadline(JUNE, plan(), TZ) == utc(2019, 6, 15, 17) == local(2019, 6, 16)


def test_unit_notices_of_2019_06_are_those_domain_md_lists():
    assert as_local(unit_notices(JUNE, plan(), TZ)) == [
        ("reminder", 0, -3, datetime(2019, 6, 12, 8, 0)),
        ("reminder", 1, -1, datetime(2019, 6, 14, 8, 0)),
        ("reminder", 2, 0, datetime(2019, 6, 15, 8, 0)),
        ("overdue", 0, 1, datetime(2019, 6, 16, 8, 0)),
        ("overdue", 1, 3, datetime(2019, 6, 18, 8, 0)),
        ("overdue", 2, 5, datetime(2019, 6, 20, 8, 0)),
    ]


def test_unit_notices_of_2019_06_are_utc_instants():
    notices = unit_notices(JUNE, plan(), TZ)
    assert [n.fire_at for n in notices] == [
        utc(2019, 6, 12, 1),
        utc(2019, 6, 14, 1),
        utc(2019, 6, 15, 1),
        utc(2019, 6, 16, 1),
        utc(2019, 6, 18, 1),
        utc(2019, 6, 20, 1),
    ]
    assert all(n.fire_at.utcoffset() == timedelta(0) for n in notices)


def test_period_notices_of_2019_06_are_the_escalation_and_the_close():
    notices = period_notices(JUNE, plan(), TZ)
    assert as_local(notices) == [
        ("escalation", 0, 1, datetime(2019, 6, 16, 8, 0)),
        ("close", 0, 10, datetime(2019, 6, 25, 0, 0)),
    ]
    assert [n.fire_at for n in notices] == [utc(2019, 6, 16, 1), utc(2019, 6, 24, 17)]


def test_reminders_fire_before_the_deadline_and_overdue_notices_after_it():
    due = deadline(JUNE, plan(), TZ)
    notices = unit_notices(JUNE, plan(), TZ)
    assert all(n.fire_at < due for n in notices if n.kind == "reminder")
    assert all(n.fire_at > due for n in notices if n.kind == "overdue")
    escalation, close = period_notices(JUNE, plan(), TZ)
    assert due < escalation.fire_at < close.fire_at


def test_notices_across_a_year_boundary():
    # Due before 1 January: the last day is 31 December and the notices run into the new year.
    calendar = plan(due_day=1, due_month_offset=1)
    period = parse_period("2019-12")
    assert last_day(period, calendar) == date(2019, 12, 31)
    assert [local_time for *_, local_time in as_local(unit_notices(period, calendar, TZ))] == [
        datetime(2019, 12, 28, 8),
        datetime(2019, 12, 30, 8),
        datetime(2019, 12, 31, 8),
        datetime(2020, 1, 1, 8),
        datetime(2020, 1, 3, 8),
        datetime(2020, 1, 5, 8),
    ]
    assert [n.fire_at for n in period_notices(period, calendar, TZ)] == [utc(2020, 1, 1, 1), utc(2020, 1, 9, 17)]


# --- every offset and send time is a setting -----------------------------------------------------


def test_changing_offsets_and_send_times_moves_the_instants():
    calendar = plan(
        reminders={"days": [-5, -2], "at": "17:30"},
        overdue={"days": [2, 4], "at": "09:15"},
        escalation={"days": [2, 6], "at": "07:00"},
        close={"days": [7], "at": "12:00"},
    )
    assert as_local(unit_notices(JUNE, calendar, TZ)) == [
        ("reminder", 0, -5, datetime(2019, 6, 10, 17, 30)),
        ("reminder", 1, -2, datetime(2019, 6, 13, 17, 30)),
        ("overdue", 0, 2, datetime(2019, 6, 17, 9, 15)),
        ("overdue", 1, 4, datetime(2019, 6, 19, 9, 15)),
    ]
    assert as_local(period_notices(JUNE, calendar, TZ)) == [
        ("escalation", 0, 2, datetime(2019, 6, 17, 7, 0)),
        ("escalation", 1, 6, datetime(2019, 6, 21, 7, 0)),
        ("close", 0, 7, datetime(2019, 6, 22, 12, 0)),
    ]


def test_changing_the_due_day_moves_every_notice_with_the_last_day():
    before = unit_notices(JUNE, plan(), TZ) + period_notices(JUNE, plan(), TZ)
    after = unit_notices(JUNE, plan(due_day=20), TZ) + period_notices(JUNE, plan(due_day=20), TZ)
    assert last_day(JUNE, plan(due_day=20)) == date(2019, 6, 19)
    assert [b.fire_at + timedelta(days=4) for b in before] == [a.fire_at for a in after]


def test_the_send_time_is_local_to_the_given_timezone():
    tokyo = unit_notices(JUNE, plan(), "Asia/Tokyo")
    assert tokyo[0].fire_at == utc(2019, 6, 11, 23), "08:00 in Tokyo (UTC+9) is 23:00 UTC the day before"
    assert fire_instant(date(2019, 6, 25), "00:00", TZ) == utc(2019, 6, 24, 17)
    assert fire_instant(date(2019, 6, 15), "23:59", TZ) == utc(2019, 6, 15, 16, 59)


def test_days_given_out_of_order_are_numbered_in_firing_order():
    calendar = plan(reminders={"days": [0, -3, -1], "at": "08:00"}, overdue={"days": [5, 1, 3], "at": "08:00"})
    assert as_local(unit_notices(JUNE, calendar, TZ)) == as_local(unit_notices(JUNE, plan(), TZ))


def test_no_notices_when_the_plan_configures_none():
    calendar = plan(reminders={"days": []}, overdue={"days": []}, escalation={"days": []}, close={"days": [10]})
    assert unit_notices(JUNE, calendar, TZ) == []
    assert [n.kind for n in period_notices(JUNE, calendar, TZ)] == ["close"]


def test_notices_follow_a_deadline_moved_past_the_weekend():
    # 2019-06-15 is a Saturday: under next_working_day the last day is Monday the 17th.
    calendar = plan(non_working_day_policy="next_working_day")
    assert last_day(JUNE, calendar) == date(2019, 6, 17)
    assert deadline(JUNE, calendar, TZ) == local(2019, 6, 18)
    assert [t for *_, t in as_local(unit_notices(JUNE, calendar, TZ))] == [
        datetime(2019, 6, 14, 8),
        datetime(2019, 6, 16, 8),
        datetime(2019, 6, 17, 8),
        datetime(2019, 6, 18, 8),
        datetime(2019, 6, 20, 8),
        datetime(2019, 6, 22, 8),
    ]
    assert [t for *_, t in as_local(period_notices(JUNE, calendar, TZ))] == [
        datetime(2019, 6, 18, 8),
        datetime(2019, 6, 27, 0),
    ]


def test_notices_follow_a_deadline_moved_past_tet():
    calendar = plan(holidays=PLAN_467["holidays"] + TET_2021, non_working_day_policy="next_working_day")
    period = parse_period("2021-02")
    assert last_day(period, calendar) == date(2021, 2, 17)
    assert [n.fire_at for n in unit_notices(period, calendar, TZ) if n.kind == "reminder"] == [
        local(2021, 2, 14, 8),
        local(2021, 2, 16, 8),
        local(2021, 2, 17, 8),
    ]
    kept = plan(holidays=PLAN_467["holidays"] + TET_2021)
    assert last_day(period, kept) == date(2021, 2, 15)
    assert unit_notices(period, kept, TZ)[-1].fire_at == local(2021, 2, 20, 8)


def test_quarterly_notices_count_from_the_quarter_deadline():
    calendar = plan(frequency="quarterly", due_month_offset=1)
    q2 = parse_period("2019-Q2", "quarterly")
    assert last_day(q2, calendar) == date(2019, 7, 15)
    assert [n.fire_at for n in period_notices(q2, calendar, TZ)] == [local(2019, 7, 16, 8), local(2019, 7, 25)]


# --- timeliness ----------------------------------------------------------------------------------

DUE = due_at(JUNE, plan(), TZ)  # 2019-06-16T00:00+07:00


def test_the_last_second_before_the_16th_is_on_time_and_midnight_is_late():
    assert DUE == utc(2019, 6, 15, 17)
    after = local(2019, 7, 1)
    assert classify(due_at=DUE, first_submitted_at=local(2019, 6, 15, 23, 59, 59), now=after) == "on_time"
    assert classify(due_at=DUE, first_submitted_at=local(2019, 6, 15, 23, 59, 59, 999999), now=after) == "on_time"
    assert classify(due_at=DUE, first_submitted_at=local(2019, 6, 16, 0, 0, 0), now=after) == "late"
    assert classify(due_at=DUE, first_submitted_at=utc(2019, 6, 15, 17), now=after) == "late"


def test_nothing_arrived_is_pending_before_the_deadline_and_missing_from_it():
    assert classify(due_at=DUE, first_submitted_at=None, now=local(2019, 6, 1)) == "pending"
    assert classify(due_at=DUE, first_submitted_at=None, now=local(2019, 6, 15, 23, 59, 59)) == "pending"
    assert classify(due_at=DUE, first_submitted_at=None, now=local(2019, 6, 16)) == "missing"
    assert classify(due_at=DUE, first_submitted_at=None, now=local(2019, 6, 30)) == "missing"


def test_a_submission_decides_regardless_of_now():
    early = local(2019, 6, 10, 9)
    assert classify(due_at=DUE, first_submitted_at=early, now=early) == "on_time"
    assert classify(due_at=DUE, first_submitted_at=early, now=local(2020, 1, 1)) == "on_time"
    assert classify(due_at=DUE, first_submitted_at=local(2019, 6, 20), now=local(2019, 6, 20)) == "late"


def test_a_missing_unit_that_submits_before_the_close_becomes_late():
    closed_at = period_notices(JUNE, plan(), TZ)[-1].fire_at  # 2019-06-25T00:00+07:00
    assert classify(due_at=DUE, first_submitted_at=None, now=local(2019, 6, 18)) == "missing"
    submitted = local(2019, 6, 24, 23, 59)
    assert counts_after_close(submitted_at=submitted, closed_at=closed_at) is True
    assert classify(due_at=DUE, first_submitted_at=submitted, now=local(2019, 6, 24, 23, 59)) == "late"


def test_after_the_close_missing_is_final():
    closed_at = local(2019, 6, 25)
    for submitted in (local(2019, 6, 25), local(2019, 7, 3)):
        assert counts_after_close(submitted_at=submitted, closed_at=closed_at) is False
        first = submitted if counts_after_close(submitted_at=submitted, closed_at=closed_at) else None
        assert classify(due_at=DUE, first_submitted_at=first, now=submitted) == "missing"


def test_counts_after_close():
    assert counts_after_close(submitted_at=None, closed_at=None) is False
    assert counts_after_close(submitted_at=None, closed_at=local(2019, 6, 25)) is False
    assert counts_after_close(submitted_at=local(2019, 6, 30), closed_at=None) is True
    assert counts_after_close(submitted_at=local(2019, 6, 24, 23, 59, 59), closed_at=local(2019, 6, 25)) is True


@pytest.mark.parametrize(
    ("submitted", "seconds"),
    [
        (None, None),
        (local(2019, 6, 10), None),
        (local(2019, 6, 15, 23, 59, 59), None),
        (local(2019, 6, 16), 0),
        (local(2019, 6, 16, 0, 0, 1), 1),
        (local(2019, 6, 16, 0, 0, 1, 999999), 1),
        (local(2019, 6, 16, 1, 0), 3600),
        (local(2019, 6, 17), 86400),
        (utc(2019, 6, 20, 17), 5 * 86400),
    ],
)
def test_late_by_s(submitted, seconds):
    assert late_by_s(due_at=DUE, first_submitted_at=submitted) == seconds


def test_summarize_counts_and_rates():
    statuses = ["on_time"] * 6 + ["late"] * 2 + ["missing"] + ["pending"]
    assert summarize(statuses) == {
        "expected": 10,
        "on_time": 6,
        "late": 2,
        "missing": 1,
        "pending": 1,
        "reporting_rate": 0.8,
        "on_time_rate": 0.6,
    }


def test_summarize_rounds_rates_to_four_places():
    summary = summarize(iter(["on_time", "late", "missing"]))  # any iterable, consumed once
    assert summary["expected"] == 3
    assert summary["reporting_rate"] == 0.6667
    assert summary["on_time_rate"] == 0.3333


def test_summarize_of_no_obligations_is_zero_not_a_division_error():
    summary = summarize([])
    assert summary == {
        "expected": 0,
        "on_time": 0,
        "late": 0,
        "missing": 0,
        "pending": 0,
        "reporting_rate": 0.0,
        "on_time_rate": 0.0,
    }
    assert isinstance(summary["reporting_rate"], float) and isinstance(summary["on_time_rate"], float)


def test_summarize_everyone_on_time_and_nobody_reported():
    assert summarize(["on_time"] * 30) == {
        "expected": 30,
        "on_time": 30,
        "late": 0,
        "missing": 0,
        "pending": 0,
        "reporting_rate": 1.0,
        "on_time_rate": 1.0,
    }
    nobody = summarize(["missing"] * 4 + ["pending"] * 2)
    assert (nobody["expected"], nobody["reporting_rate"], nobody["on_time_rate"]) == (6, 0.0, 0.0)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def calendars(draw):
    return plan(**draw(calendar_settings()))


monthly_periods = st.builds(lambda y, m: parse_period(f"{y}-{m:02d}"), st.integers(1990, 2100), st.integers(1, 12))


@settings(max_examples=300, deadline=None)
@given(monthly_periods, calendars())
def test_notices_fire_in_order_around_the_deadline(period, calendar):
    due = deadline(period, calendar, TZ)
    last = last_day(period, calendar)
    assert datetime.combine(last + timedelta(days=1), time(0), HCM) == due
    notices = unit_notices(period, calendar, TZ)
    assert len(notices) == len(calendar.reminders.days) + len(calendar.overdue.days)
    assert [n.fire_at for n in notices] == sorted(n.fire_at for n in notices), "in firing order"
    for n in notices:
        schedule = calendar.reminders if n.kind == "reminder" else calendar.overdue
        wall = n.fire_at.astimezone(HCM)
        assert wall.date() == last + timedelta(days=n.day_offset)
        assert wall.strftime("%H:%M") == schedule.at
        if n.kind == "reminder":
            assert n.fire_at < due
        else:
            assert n.fire_at >= due
            assert n.fire_at > due or (n.day_offset == 1 and schedule.at == "00:00")
    for kind in ("reminder", "overdue"):
        same = [n for n in notices if n.kind == kind]
        assert [n.sequence for n in same] == list(range(len(same)))
    periodic = period_notices(period, calendar, TZ)
    for kind in ("escalation", "close"):
        same = [n for n in periodic if n.kind == kind]
        assert [n.sequence for n in same] == list(range(len(same)))
        assert [n.fire_at for n in same] == sorted(n.fire_at for n in same)
        assert all(n.fire_at >= due for n in same)


@settings(max_examples=500, deadline=None)
@given(
    monthly_periods,
    st.integers(-10 * 86400, 10 * 86400),
    st.integers(0, 999_999),
    st.integers(-10 * 86400, 10 * 86400),
)
def test_on_time_iff_the_first_submission_is_before_due_at(period, delta_s, micros, now_delta_s):
    due = due_at(period, plan(), TZ)
    t = due + timedelta(seconds=delta_s, microseconds=micros)
    now = due + timedelta(seconds=now_delta_s)
    status = classify(due_at=due, first_submitted_at=t, now=now)
    assert status == ("on_time" if t < due else "late")
    assert late_by_s(due_at=due, first_submitted_at=t) == (None if t < due else delta_s)
    assert classify(due_at=due, first_submitted_at=None, now=now) == ("missing" if now >= due else "pending")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(STATUSES), max_size=200))
def test_summarize_is_consistent(statuses):
    summary = summarize(statuses)
    expected = len(statuses)
    assert summary["expected"] == expected == sum(summary[s] for s in STATUSES)
    for s in STATUSES:
        assert summary[s] == statuses.count(s)
    if expected:
        assert summary["reporting_rate"] == round((summary["on_time"] + summary["late"]) / expected, 4)
        assert summary["on_time_rate"] == round(summary["on_time"] / expected, 4)
    else:
        assert summary["reporting_rate"] == summary["on_time_rate"] == 0.0
    assert 0.0 <= summary["on_time_rate"] <= summary["reporting_rate"] <= 1.0


def test_the_national_levels_notices_count_from_the_provinces_last_day():
    """Plan 467: the province's report is due on the 20th, so its last day is the 19th; the same offsets as the
    units' give reminders on the 16th, 18th and 19th, overdue notices on the 20th, 22nd and 24th, the digest to
    the national office on the 20th (08:00) and the national close at 00:00 on the 29th."""
    found = province_notices(parse_period("2019-06"), plan(), "Asia/Ho_Chi_Minh")
    days = [(n.kind, n.fire_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d %H:%M")) for n in found]
    assert days == [
        ("province_reminder", "16 08:00"),
        ("province_reminder", "18 08:00"),
        ("province_reminder", "19 08:00"),
        ("province_overdue", "20 08:00"),
        ("national_escalation", "20 08:00"),
        ("province_overdue", "22 08:00"),
        ("province_overdue", "24 08:00"),
        ("national_close", "29 00:00"),
    ]
