"""Properties of the reporting calendar beyond test_calendar.py's: period codes round-trip and step to their
neighbours, a longer period's window is the union of its months' windows, the window of a date moves
forward with the date, and the deadline is the first instant of its local day in any province's time zone
(including zones whose clocks jump at midnight). Bounded: a fixed number of examples, derandomized."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from baocao_shared.calendar import (
    Period,
    cutoff_window,
    due_at,
    due_date,
    local_date,
    parse_period,
    period_containing,
    window_opens_at,
)
from baocao_shared.events.catalog import CalendarV1
from baocao_testing.samples import period_code as code_of

FREQUENCIES = ("monthly", "quarterly", "six_monthly", "yearly")
PER_YEAR = {"monthly": 12, "quarterly": 4, "six_monthly": 2, "yearly": 1}
# Vietnam, and zones that make local midnight hard: DST that starts at 00:00 (Santiago, Havana, Asunción,
# so 00:00 does not exist that day), half-hour DST (Lord Howe), odd offsets (Kathmandu, Chatham), west of UTC.
TIMEZONES = (
    "Asia/Ho_Chi_Minh",
    "UTC",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Europe/London",
    "America/New_York",
    "Pacific/Kiritimati",
)
BOUNDED = settings(max_examples=100, deadline=None, derandomize=True)

frequencies = st.sampled_from(FREQUENCIES)
timezones = st.sampled_from(TIMEZONES)
years = st.integers(1990, 2100)


def index_of(period: Period) -> int:
    return period.last_month // period.months


@st.composite
def periods(draw, frequency: str | None = None) -> Period:
    frequency = frequency or draw(frequencies)
    return parse_period(code_of(frequency, draw(years), draw(st.integers(1, PER_YEAR[frequency]))), frequency)


@st.composite
def calendars(draw, frequency: str) -> CalendarV1:
    cutoff = draw(st.integers(1, 28))
    offset = draw(st.integers(0, 2)) if cutoff < 28 else draw(st.integers(1, 2))
    due_day = draw(st.integers(cutoff + 1, 28)) if offset == 0 else draw(st.integers(1, 28))
    return CalendarV1(
        frequency=frequency,
        cutoff_day=cutoff,
        due_day=due_day,
        due_month_offset=offset,
        non_working_day_policy=draw(st.sampled_from(["keep", "next_working_day"])),
        weekend_days=sorted(draw(st.sets(st.integers(0, 6), max_size=3))),
    )


def neighbour(period: Period, step: int) -> Period:
    """The period `step` periods after this one (before, when negative), counted in the code's own terms."""
    frequency = frequency_of(period)
    flat = period.year * PER_YEAR[frequency] + index_of(period) - 1 + step
    return parse_period(code_of(frequency, flat // PER_YEAR[frequency], flat % PER_YEAR[frequency] + 1), frequency)


def frequency_of(period: Period) -> str:
    return {1: "monthly", 3: "quarterly", 6: "six_monthly", 12: "yearly"}[period.months]


# --- period codes ---------------------------------------------------------------------------------


@BOUNDED
@given(periods())
def test_a_period_code_round_trips_through_its_parts(period):
    frequency = frequency_of(period)
    assert code_of(frequency, period.year, index_of(period)) == period.code
    assert parse_period(period.code, frequency) == period
    first_year, first_month = period.first_month
    assert (period.year - first_year) * 12 + period.last_month - first_month == period.months - 1
    assert first_month % period.months == 1 % period.months, "a period starts on its own boundary"


@BOUNDED
@given(periods(), st.integers(1, 28))
@example(parse_period("2019-12"), 15)  # December 15th belongs to next year's January
@example(parse_period("2019-Q4", "quarterly"), 1)
def test_the_day_after_a_window_is_in_the_next_period_and_the_day_before_in_the_previous(period, cutoff):
    frequency = frequency_of(period)
    calendar = CalendarV1(frequency=frequency, cutoff_day=cutoff, due_day=28, due_month_offset=1)
    start, end = cutoff_window(period, calendar)
    assert period_containing(start, calendar) == period == period_containing(end, calendar)
    assert period_containing(end + timedelta(days=1), calendar) == neighbour(period, 1)
    assert period_containing(start - timedelta(days=1), calendar) == neighbour(period, -1)


@BOUNDED
@given(periods(), st.integers(1, 28))
def test_a_longer_window_is_the_union_of_its_months_windows(period, cutoff):
    frequency = frequency_of(period)
    calendar = CalendarV1(frequency=frequency, cutoff_day=cutoff, due_day=28, due_month_offset=1)
    monthly = CalendarV1(frequency="monthly", cutoff_day=cutoff, due_day=28, due_month_offset=1)
    first_year, first_month = period.first_month
    months = [
        parse_period(f"{first_year + (first_month - 1 + k) // 12}-{(first_month - 1 + k) % 12 + 1:02d}")
        for k in range(period.months)
    ]
    windows = [cutoff_window(m, monthly) for m in months]
    assert cutoff_window(period, calendar) == (windows[0][0], windows[-1][1])
    for (_, end), (start, _) in pairwise(windows):
        assert end + timedelta(days=1) == start


@BOUNDED
@given(st.dates(date(1990, 1, 1), date(2100, 12, 31)), st.integers(0, 400), frequencies, st.integers(1, 28))
def test_a_later_date_never_falls_in_an_earlier_period(day, days_later, frequency, cutoff):
    calendar = CalendarV1(frequency=frequency, cutoff_day=cutoff, due_day=28, due_month_offset=1)
    earlier, later = period_containing(day, calendar), period_containing(day + timedelta(days=days_later), calendar)
    assert (earlier.year, earlier.last_month) <= (later.year, later.last_month)
    if days_later <= 27:  # less than any month: at most the next period
        gap = (later.year - earlier.year) * 12 + later.last_month - earlier.last_month
        assert gap in (0, earlier.months)


# --- the deadline in the province's time zone ----------------------------------------------------


@BOUNDED
@given(st.data(), frequencies, timezones)
def test_the_deadline_is_the_first_instant_of_the_due_day_in_the_province(data, frequency, timezone):
    period = data.draw(periods(frequency))
    calendar = data.draw(calendars(frequency))
    due, day = due_at(period, calendar, timezone), due_date(period, calendar)
    assert due.utcoffset() == timedelta(0)
    assert local_date(due, timezone) == day, "late from the due day on, in the province's own calendar"
    assert local_date(due - timedelta(microseconds=1), timezone) < day, "the whole day before is still on time"
    # The due day is in the month the plan says: the period's last month plus the offset (or just after, when
    # the policy moved it past non-working days).
    year, month = divmod(period.year * 12 + period.last_month - 1 + calendar.due_month_offset, 12)
    named = date(year, month + 1, calendar.due_day)
    assert day == named if calendar.non_working_day_policy == "keep" else named <= day <= named + timedelta(days=7)
    assert window_opens_at(period, calendar, timezone) < due


def test_a_deadline_on_a_day_whose_midnight_does_not_exist_is_its_first_instant():
    # Santiago moved its clocks from 00:00 to 01:00 on Sunday 8 September 2019: that day starts at 01:00.
    calendar = CalendarV1(cutoff_day=1, due_day=8)
    due = due_at(parse_period("2019-09"), calendar, "America/Santiago")
    assert due.astimezone(ZoneInfo("America/Santiago")).replace(tzinfo=None) == datetime(2019, 9, 8, 1, 0)
    assert local_date(due - timedelta(microseconds=1), "America/Santiago") == date(2019, 9, 7)
    assert datetime.combine(date(2019, 9, 7), time(23, 59), ZoneInfo("America/Santiago")) < due
