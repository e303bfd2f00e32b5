"""The reporting calendar (Decree 09/2019/NĐ-CP, Arts. 8 and 12) as pure rules: periods, cut-off
windows, due dates and the non-working-day policy, checked against plan 467's settings
(deploy/provinces/30-hai-duong.yaml) and as properties over 1990..2100."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baocao_shared.calendar import (
    Period,
    PeriodError,
    chronological,
    cutoff_window,
    due_at,
    due_date,
    is_working_day,
    local_date,
    parse_period,
    period_containing,
    window_opens_at,
)
from baocao_shared.events.catalog import CalendarV1
from baocao_testing.samples import PLAN_467_CALENDAR as PLAN_467
from baocao_testing.samples import TET_2020, TET_2021
from baocao_testing.samples import period_code as code_of

TZ = "Asia/Ho_Chi_Minh"
HCM = ZoneInfo(TZ)


FREQUENCIES = ("monthly", "quarterly", "six_monthly", "yearly")
PER_YEAR = {"monthly": 12, "quarterly": 4, "six_monthly": 2, "yearly": 1}


def plan(**changes) -> CalendarV1:
    """Plan 467's calendar with some settings changed (validated like a loaded plan)."""
    return CalendarV1.model_validate({**PLAN_467, **changes})


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def period(code: str, frequency: str = "monthly") -> Period:
    return parse_period(code, frequency)


def neighbour(frequency: str, year: int, index: int, step: int) -> tuple[int, int]:
    flat = year * PER_YEAR[frequency] + (index - 1) + step
    return flat // PER_YEAR[frequency], flat % PER_YEAR[frequency] + 1


# --- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "frequency", "year", "last_month", "months", "first_month"),
    [
        ("2019-06", "monthly", 2019, 6, 1, (2019, 6)),
        ("2019-01", "monthly", 2019, 1, 1, (2019, 1)),
        ("2019-12", "monthly", 2019, 12, 1, (2019, 12)),
        ("2019-Q1", "quarterly", 2019, 3, 3, (2019, 1)),
        ("2019-Q2", "quarterly", 2019, 6, 3, (2019, 4)),
        ("2019-Q4", "quarterly", 2019, 12, 3, (2019, 10)),
        ("2019-H1", "six_monthly", 2019, 6, 6, (2019, 1)),
        ("2019-H2", "six_monthly", 2019, 12, 6, (2019, 7)),
        ("2019-Y", "yearly", 2019, 12, 12, (2019, 1)),
    ],
)
def test_a_period_code_names_its_last_month_and_span(code, frequency, year, last_month, months, first_month):
    parsed = parse_period(code, frequency)
    assert parsed == Period(code=code, year=year, last_month=last_month, months=months)
    assert parsed.first_month == first_month


@pytest.mark.parametrize(
    ("code", "frequency", "example"),
    [
        ("2019-13", "monthly", "2019-06"),
        ("2019-00", "monthly", "2019-06"),
        ("2019-6", "monthly", "2019-06"),
        ("2019-Q2", "monthly", "2019-06"),
        ("2019-Q5", "quarterly", "2019-Q2"),
        ("2019-06", "quarterly", "2019-Q2"),
        ("2019-H3", "six_monthly", "2019-H1"),
        ("2019", "yearly", "2019-Y"),
        ("2019-06", "yearly", "2019-Y"),
    ],
)
def test_a_malformed_period_code_is_refused_with_an_example(code, frequency, example):
    with pytest.raises(PeriodError, match=f"not a {frequency} period like {example}"):
        parse_period(code, frequency)


# --- monthly windows and due dates, at month and year boundaries ---------------------------------


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("2019-06", date(2019, 5, 15), date(2019, 6, 14)),
        ("2019-01", date(2018, 12, 15), date(2019, 1, 14)),  # starts in the previous year
        ("2019-12", date(2019, 11, 15), date(2019, 12, 14)),
        ("2020-01", date(2019, 12, 15), date(2020, 1, 14)),
        ("2019-03", date(2019, 2, 15), date(2019, 3, 14)),  # 28 days
        ("2020-03", date(2020, 2, 15), date(2020, 3, 14)),  # 29 days, leap year
    ],
)
def test_a_monthly_window_runs_from_the_15th_of_the_month_before_to_the_14th(code, start, end):
    assert cutoff_window(period(code), plan()) == (start, end)


def test_leap_february_lengthens_the_march_window_by_a_day():
    def length(code):
        start, end = cutoff_window(period(code), plan())
        return (end - start).days + 1

    assert (length("2019-03"), length("2020-03"), length("2019-06")) == (28, 29, 31)


def test_the_window_of_2019_06_opens_at_local_midnight_of_may_15():
    assert window_opens_at(period("2019-06"), plan(), TZ) == utc(2019, 5, 14, 17) == local(2019, 5, 15)


def test_the_window_of_january_opens_in_december_of_the_year_before():
    assert window_opens_at(period("2019-01"), plan(), TZ) == local(2018, 12, 15) == utc(2018, 12, 14, 17)


def test_2019_06_is_due_before_the_16th_in_local_time():
    at = due_at(period("2019-06"), plan(), TZ)
    assert due_date(period("2019-06"), plan()) == date(2019, 6, 16)
    assert at == local(2019, 6, 16, 0, 0) == utc(2019, 6, 15, 17, 0)
    assert at.utcoffset() == timedelta(0), "instants are returned in UTC"
    assert (at.year, at.month, at.day, at.hour) == (2019, 6, 15, 17)


@pytest.mark.parametrize(
    ("code", "due"),
    [("2019-12", date(2019, 12, 16)), ("2019-01", date(2019, 1, 16)), ("2020-02", date(2020, 2, 16))],
)
def test_a_monthly_period_is_due_on_the_16th_of_its_own_month(code, due):
    assert due_date(period(code), plan()) == due
    assert due_at(period(code), plan(), TZ) == datetime.combine(due, datetime.min.time(), HCM)


def test_due_month_offset_moves_december_into_the_next_year():
    assert due_date(period("2019-12"), plan(due_month_offset=1)) == date(2020, 1, 16)
    assert due_date(period("2019-12"), plan(due_month_offset=2)) == date(2020, 2, 16)
    assert due_at(period("2019-12"), plan(due_month_offset=1), TZ) == utc(2020, 1, 15, 17)


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (date(2019, 6, 14), "2019-06"),
        (date(2019, 6, 15), "2019-07"),
        (date(2019, 5, 15), "2019-06"),
        (date(2019, 6, 1), "2019-06"),
        (date(2019, 1, 1), "2019-01"),
        (date(2019, 1, 14), "2019-01"),
        (date(2019, 1, 15), "2019-02"),
        (date(2019, 12, 14), "2019-12"),
        (date(2019, 12, 15), "2020-01"),  # December 15th belongs to next year's January
        (date(2019, 12, 31), "2020-01"),
        (date(2020, 2, 29), "2020-03"),
    ],
)
def test_period_containing_switches_on_the_cutoff_day(day, code):
    found = period_containing(day, plan())
    assert found.code == code
    start, end = cutoff_window(found, plan())
    assert start <= day <= end


def test_the_local_date_of_an_instant_is_taken_in_the_plan_timezone():
    assert local_date(utc(2019, 6, 15, 16, 59, 59), TZ) == date(2019, 6, 15)
    assert local_date(utc(2019, 6, 15, 17, 0, 0), TZ) == date(2019, 6, 16)
    assert local_date(utc(2019, 12, 14, 17), TZ) == date(2019, 12, 15)
    assert period_containing(local_date(utc(2019, 12, 14, 17), TZ), plan()).code == "2020-01"


# --- quarterly, six-monthly and yearly -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "frequency", "start", "end", "due"),
    [
        ("2019-Q1", "quarterly", date(2018, 12, 15), date(2019, 3, 14), date(2019, 3, 16)),
        ("2019-Q2", "quarterly", date(2019, 3, 15), date(2019, 6, 14), date(2019, 6, 16)),
        ("2019-Q3", "quarterly", date(2019, 6, 15), date(2019, 9, 14), date(2019, 9, 16)),
        ("2019-Q4", "quarterly", date(2019, 9, 15), date(2019, 12, 14), date(2019, 12, 16)),
        ("2019-H1", "six_monthly", date(2018, 12, 15), date(2019, 6, 14), date(2019, 6, 16)),
        ("2019-H2", "six_monthly", date(2019, 6, 15), date(2019, 12, 14), date(2019, 12, 16)),
        ("2019-Y", "yearly", date(2018, 12, 15), date(2019, 12, 14), date(2019, 12, 16)),
    ],
)
def test_longer_periods_follow_the_same_15th_to_14th_rule(code, frequency, start, end, due):
    calendar = plan(frequency=frequency)
    p = parse_period(code, frequency)
    assert cutoff_window(p, calendar) == (start, end)
    assert due_date(p, calendar) == due
    assert due_at(p, calendar, TZ) == datetime.combine(due, datetime.min.time(), HCM)
    assert window_opens_at(p, calendar, TZ) == datetime.combine(start, datetime.min.time(), HCM)


@pytest.mark.parametrize(
    ("code", "frequency", "offset", "due"),
    [
        ("2019-Q2", "quarterly", 1, date(2019, 7, 16)),
        ("2019-Q4", "quarterly", 1, date(2020, 1, 16)),
        ("2019-Q4", "quarterly", 2, date(2020, 2, 16)),
        ("2019-H1", "six_monthly", 1, date(2019, 7, 16)),
        ("2019-H2", "six_monthly", 2, date(2020, 2, 16)),
        ("2019-Y", "yearly", 1, date(2020, 1, 16)),
        ("2019-Y", "yearly", 2, date(2020, 2, 16)),
    ],
)
def test_due_month_offset_counts_months_after_the_last_month(code, frequency, offset, due):
    calendar = plan(frequency=frequency, due_month_offset=offset)
    assert due_date(parse_period(code, frequency), calendar) == due
    # The offset moves only the deadline, never the data window.
    assert cutoff_window(parse_period(code, frequency), calendar) == cutoff_window(
        parse_period(code, frequency), plan(frequency=frequency)
    )


@pytest.mark.parametrize(
    ("frequency", "day", "code"),
    [
        ("quarterly", date(2019, 3, 14), "2019-Q1"),
        ("quarterly", date(2019, 3, 15), "2019-Q2"),
        ("quarterly", date(2019, 4, 30), "2019-Q2"),
        ("quarterly", date(2019, 6, 14), "2019-Q2"),
        ("quarterly", date(2019, 12, 14), "2019-Q4"),
        ("quarterly", date(2019, 12, 15), "2020-Q1"),
        ("quarterly", date(2019, 1, 1), "2019-Q1"),
        ("six_monthly", date(2019, 6, 14), "2019-H1"),
        ("six_monthly", date(2019, 6, 15), "2019-H2"),
        ("six_monthly", date(2019, 12, 15), "2020-H1"),
        ("yearly", date(2018, 12, 15), "2019-Y"),
        ("yearly", date(2019, 12, 14), "2019-Y"),
        ("yearly", date(2019, 12, 15), "2020-Y"),
    ],
)
def test_period_containing_for_longer_periods(frequency, day, code):
    calendar = plan(frequency=frequency)
    found = period_containing(day, calendar)
    assert found == parse_period(code, frequency)
    start, end = cutoff_window(found, calendar)
    assert start <= day <= end


# --- the window and deadline are settings, not constants -----------------------------------------


def test_cutoff_day_1_makes_calendar_month_windows():
    calendar = plan(cutoff_day=1, due_day=5)
    assert cutoff_window(period("2019-06"), calendar) == (date(2019, 5, 1), date(2019, 5, 31))
    assert period_containing(date(2019, 5, 31), calendar).code == "2019-06"
    assert period_containing(date(2019, 6, 1), calendar).code == "2019-07"
    assert due_date(period("2019-06"), calendar) == date(2019, 6, 5)


def test_cutoff_day_28_in_february():
    calendar = plan(cutoff_day=28, due_day=1, due_month_offset=1)
    assert cutoff_window(period("2019-03"), calendar) == (date(2019, 2, 28), date(2019, 3, 27))
    assert cutoff_window(period("2020-03"), calendar) == (date(2020, 2, 28), date(2020, 3, 27))
    assert period_containing(date(2020, 2, 29), calendar).code == "2020-03"
    assert due_date(period("2019-12"), calendar) == date(2020, 1, 1)


def test_due_at_is_midnight_in_the_given_timezone():
    assert due_at(period("2019-06"), plan(), "Asia/Tokyo") == utc(2019, 6, 15, 15)
    assert due_at(period("2019-06"), plan(), "UTC") == utc(2019, 6, 16)
    assert due_at(period("2019-06"), plan(due_day=20), TZ) == utc(2019, 6, 19, 17)


# --- working days and the non-working-day policy -------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2019, 6, 14), True),  # Friday
        (date(2019, 6, 15), False),  # Saturday
        (date(2019, 6, 16), False),  # Sunday
        (date(2019, 6, 17), True),  # Monday
        (date(2019, 9, 2), False),  # National Day, a Monday
        (date(2019, 9, 3), True),
        (date(2020, 1, 23), False),  # Tết 2020 starts on a Thursday
        (date(2020, 1, 29), False),  # and ends on a Wednesday
        (date(2020, 1, 30), True),
        (date(2020, 1, 22), True),
    ],
)
def test_is_working_day_uses_weekend_and_holidays_of_the_plan(day, working):
    assert is_working_day(day, plan()) is working


def test_weekend_days_are_a_setting():
    sundays_only = plan(weekend_days=[6])
    assert is_working_day(date(2019, 6, 15), sundays_only) is True
    assert is_working_day(date(2019, 6, 16), sundays_only) is False
    assert is_working_day(date(2020, 1, 23), plan(holidays=[])) is True


def test_tet_2020_keep_leaves_the_deadline_in_tet():
    # A plan due before the 24th: the last day before the deadline, 23 January 2020, is Tết.
    calendar = plan(due_day=24, holidays=TET_2020, non_working_day_policy="keep")
    assert due_date(period("2020-01"), calendar) == date(2020, 1, 24)
    assert due_at(period("2020-01"), calendar, TZ) == local(2020, 1, 24) == utc(2020, 1, 23, 17)


def test_tet_2020_next_working_day_moves_the_deadline_past_tet():
    calendar = plan(due_day=24, holidays=TET_2020, non_working_day_policy="next_working_day")
    # 23..29 January are Tết (25/26 also the weekend); Thursday 30 is the next working day, so
    # the report is late from 00:00 on Friday 31 January.
    assert due_date(period("2020-01"), calendar) == date(2020, 1, 31)
    assert due_at(period("2020-01"), calendar, TZ) == local(2020, 1, 31) == utc(2020, 1, 30, 17)


def test_tet_2021_on_the_15th_under_each_policy():
    holidays = PLAN_467["holidays"] + TET_2021
    keep = plan(holidays=holidays, non_working_day_policy="keep")
    move = plan(holidays=holidays, non_working_day_policy="next_working_day")
    # Monday 15 and Tuesday 16 February 2021 are Tết; Wednesday 17 is the next working day.
    assert due_at(period("2021-02"), keep, TZ) == local(2021, 2, 16) == utc(2021, 2, 15, 17)
    assert due_at(period("2021-02"), move, TZ) == local(2021, 2, 18) == utc(2021, 2, 17, 17)
    # The window does not move with the deadline.
    assert cutoff_window(period("2021-02"), move) == (date(2021, 1, 15), date(2021, 2, 14))


def test_a_saturday_15th_under_each_policy():
    # 2019-06-15 is a Saturday: plan 467 keeps the deadline, the other policy gives until Monday.
    assert due_at(period("2019-06"), plan(), TZ) == utc(2019, 6, 15, 17)
    moved = plan(non_working_day_policy="next_working_day")
    assert due_date(period("2019-06"), moved) == date(2019, 6, 18)
    assert due_at(period("2019-06"), moved, TZ) == local(2019, 6, 18) == utc(2019, 6, 17, 17)
    assert due_at(
        parse_period("2019-Q2", "quarterly"), plan(frequency="quarterly", non_working_day_policy="next_working_day"), TZ
    ) == utc(2019, 6, 17, 17)


def test_next_working_day_does_not_move_a_deadline_after_a_working_day():
    moved = plan(non_working_day_policy="next_working_day")
    assert date(2019, 5, 15).weekday() == 2
    assert due_date(period("2019-05"), moved) == due_date(period("2019-05"), plan()) == date(2019, 5, 16)


def test_a_holiday_on_the_deadline_day_itself_does_not_move_it():
    # "Before the 16th" is met on the 15th; only the last day before the deadline matters.
    moved = plan(holidays=[date(2019, 5, 16)], non_working_day_policy="next_working_day")
    assert due_date(period("2019-05"), moved) == date(2019, 5, 16)


# --- properties ----------------------------------------------------------------------------------

frequencies = st.sampled_from(FREQUENCIES)
years = st.integers(1990, 2100)
cutoff_days = st.integers(1, 28)
any_day = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def periods(draw, frequency=None):
    frequency = frequency or draw(frequencies)
    year = draw(years)
    index = draw(st.integers(1, PER_YEAR[frequency]))
    return frequency, year, index


@st.composite
def consistent_deadlines(draw, cutoff_day):
    """due_day/due_month_offset that put the deadline after the window (Art. 8 §5)."""
    offset = draw(st.integers(0, 2)) if cutoff_day < 28 else draw(st.integers(1, 2))
    due_day = draw(st.integers(cutoff_day + 1, 28)) if offset == 0 else draw(st.integers(1, 28))
    return due_day, offset


@settings(max_examples=300, deadline=None)
@given(periods(frequency="monthly"), cutoff_days)
def test_consecutive_monthly_windows_tile_time(p, cutoff_day):
    frequency, year, index = p
    calendar = plan(cutoff_day=cutoff_day)
    this = parse_period(code_of(frequency, year, index), frequency)
    following = parse_period(code_of(frequency, *neighbour(frequency, year, index, 1)), frequency)
    start, end = cutoff_window(this, calendar)
    next_start, next_end = cutoff_window(following, calendar)
    assert start <= end < next_start <= next_end
    assert end + timedelta(days=1) == next_start, "no gap and no overlap"
    assert start.day == cutoff_day and next_start.day == cutoff_day
    assert 28 <= (end - start).days + 1 <= 31


@settings(max_examples=300, deadline=None)
@given(periods(), cutoff_days)
def test_consecutive_windows_of_every_frequency_tile_time(p, cutoff_day):
    frequency, year, index = p
    calendar = plan(frequency=frequency, cutoff_day=cutoff_day)
    this = parse_period(code_of(frequency, year, index), frequency)
    following = parse_period(code_of(frequency, *neighbour(frequency, year, index, 1)), frequency)
    _, end = cutoff_window(this, calendar)
    next_start, _ = cutoff_window(following, calendar)
    assert end + timedelta(days=1) == next_start


@settings(max_examples=500, deadline=None)
@given(any_day, cutoff_days, frequencies)
def test_every_date_belongs_to_exactly_one_period(day, cutoff_day, frequency):
    calendar = plan(frequency=frequency, cutoff_day=cutoff_day)
    found = period_containing(day, calendar)
    start, end = cutoff_window(found, calendar)
    assert start <= day <= end
    year = found.year
    index = found.last_month // found.months
    assert found == parse_period(code_of(frequency, year, index), frequency)
    for step in (-1, 1):
        other = parse_period(code_of(frequency, *neighbour(frequency, year, index, step)), frequency)
        other_start, other_end = cutoff_window(other, calendar)
        assert not other_start <= day <= other_end, f"{day} also in {other.code}"


@settings(max_examples=300, deadline=None)
@given(periods(), cutoff_days, st.data())
def test_the_deadline_is_after_the_window(p, cutoff_day, data):
    frequency, year, index = p
    due_day, offset = data.draw(consistent_deadlines(cutoff_day))
    policy = data.draw(st.sampled_from(["keep", "next_working_day"]))
    calendar = plan(
        frequency=frequency,
        cutoff_day=cutoff_day,
        due_day=due_day,
        due_month_offset=offset,
        non_working_day_policy=policy,
    )
    this = parse_period(code_of(frequency, year, index), frequency)
    _, end = cutoff_window(this, calendar)
    window_closes_at = datetime.combine(end + timedelta(days=1), datetime.min.time(), HCM)
    deadline = due_at(this, calendar, TZ)
    assert deadline > window_closes_at
    assert deadline > window_opens_at(this, calendar, TZ)
    assert deadline == datetime.combine(due_date(this, calendar), datetime.min.time(), HCM)


@settings(max_examples=500, deadline=None)
@given(
    periods(),
    st.integers(1, 28),
    st.integers(0, 2),
    st.sets(st.integers(0, 6), max_size=6),
    st.sets(st.integers(-3, 20), max_size=15),
)
def test_next_working_day_gives_until_the_end_of_the_next_working_day(p, due_day, offset, weekend, holiday_offsets):
    frequency, year, index = p
    this = parse_period(code_of(frequency, year, index), frequency)
    settings_ = {
        "frequency": frequency,
        "due_day": due_day,
        "due_month_offset": offset,
        "weekend_days": sorted(weekend),
    }
    kept = due_date(this, plan(**settings_, holidays=[]))
    holidays = [kept + timedelta(days=d) for d in holiday_offsets]  # holidays around the deadline
    keep = plan(**settings_, holidays=holidays, non_working_day_policy="keep")
    move = plan(**settings_, holidays=holidays, non_working_day_policy="next_working_day")
    assert due_date(this, keep) == kept, "keep never moves the deadline"
    moved = due_date(this, move)
    assert moved >= kept
    assert is_working_day(moved - timedelta(days=1), move)
    # ... and it is the first working day from the original last day on: no working day skipped.
    day = kept - timedelta(days=1)
    while day < moved - timedelta(days=1):
        assert not is_working_day(day, move)
        day += timedelta(days=1)
    assert due_at(this, move, TZ) - due_at(this, keep, TZ) == timedelta(days=(moved - kept).days)


def test_periods_of_mixed_frequencies_sort_in_time_order_not_as_text():
    codes = ["2025-Q3", "2025-07", "2025-H1", "2025-06", "2025-Q2", "2024-Y", "2025-01"]
    in_time = ["2024-Y", "2025-01", "2025-H1", "2025-Q2", "2025-06", "2025-07", "2025-Q3"]
    assert sorted(codes, key=chronological) == in_time
    assert sorted(codes) != sorted(codes, key=chronological)  # text order puts every quarter after the months
