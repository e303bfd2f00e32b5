"""Properties of the notice schedule and of timeliness beyond test_schedule_and_timeliness.py's (which
holds them in Hải Dương's time zone): notices in any province's time zone, including those whose
clocks jump at midnight; late-by as a function of the submission instant; the period's figures as
more units report. Bounded: a fixed number of examples, derandomized."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from baocao_shared.calendar import due_at, parse_period
from baocao_shared.events.catalog import CalendarV1
from deadlines.domain.schedule import last_day, period_notices, unit_notices
from deadlines.domain.timeliness import STATUSES, classify, counts_after_close, late_by_s, summarize
from services.deadlines.tests.unit.strategies import calendar_settings

BOUNDED = settings(max_examples=100, deadline=None, derandomize=True)
TIMEZONES = (
    "Asia/Ho_Chi_Minh",
    "America/Santiago",  # DST starts at 00:00: some days begin at 01:00
    "America/Havana",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",
    "Europe/London",
    "America/New_York",
)
FREQUENCIES = {"monthly": 12, "quarterly": 4, "six_monthly": 2, "yearly": 1}


def code_of(frequency: str, year: int, index: int) -> str:
    return {"monthly": f"{year}-{index:02d}", "quarterly": f"{year}-Q{index}", "six_monthly": f"{year}-H{index}",
            "yearly": f"{year}-Y"}[frequency]  # fmt: skip


@st.composite
def periods_and_calendars(draw):
    frequency = draw(st.sampled_from(list(FREQUENCIES)))
    period = parse_period(
        code_of(frequency, draw(st.integers(2000, 2060)), draw(st.integers(1, FREQUENCIES[frequency]))), frequency
    )
    calendar = CalendarV1(frequency=frequency, **draw(calendar_settings(minutes=st.sampled_from([0, 15, 30, 59]))))
    return period, calendar


@BOUNDED
@given(periods_and_calendars(), st.sampled_from(TIMEZONES))
@example((parse_period("2019-09"), CalendarV1(cutoff_day=1, due_day=9, reminders={"days": [0], "at": "00:00"})),
         "America/Santiago")  # fmt: skip  # the reminder's day, 8 September 2019, has no 00:00 there
def test_reminders_come_strictly_before_the_deadline_and_every_other_notice_after_it(case, timezone):
    period, calendar = case
    due = due_at(period, calendar, timezone)
    zone = ZoneInfo(timezone)
    last = last_day(period, calendar)
    notices = unit_notices(period, calendar, timezone)
    assert [n.fire_at for n in notices] == sorted(n.fire_at for n in notices)
    reminders = [n for n in notices if n.kind == "reminder"]
    assert all(n.fire_at < due for n in reminders), "a reminder after the deadline reminds of nothing"
    assert all(n.fire_at >= due for n in notices if n.kind == "overdue")
    assert all(n.fire_at >= due for n in period_notices(period, calendar, timezone))
    for n in notices + period_notices(period, calendar, timezone):
        assert n.fire_at.utcoffset() == timedelta(0)
        assert n.fire_at.astimezone(zone).date() == last + timedelta(days=n.day_offset), "on its own local day"
    assert [n.day_offset for n in reminders] == sorted(calendar.reminders.days)


@BOUNDED
@given(
    periods_and_calendars(),
    st.sampled_from(TIMEZONES),
    st.lists(st.integers(-20 * 86400, 20 * 86400), min_size=2, max_size=6),
)
def test_late_by_grows_with_the_submission_instant_and_is_none_exactly_when_on_time(case, timezone, offsets):
    period, calendar = case
    due = due_at(period, calendar, timezone)
    instants = sorted(due + timedelta(seconds=s) for s in offsets)
    lates = [late_by_s(due_at=due, first_submitted_at=t) for t in instants]
    for t, late in zip(instants, lates, strict=True):
        status = classify(due_at=due, first_submitted_at=t, now=t)
        assert (late is None) == (status == "on_time") == (t < due)
        assert late is None or late == int((t - due).total_seconds()) >= 0
    known = [late for late in lates if late is not None]
    assert known == sorted(known), "a later submission is never less late"
    assert late_by_s(due_at=due, first_submitted_at=due) == 0
    assert late_by_s(due_at=due, first_submitted_at=due - timedelta(microseconds=1)) is None


@BOUNDED
@given(st.lists(st.sampled_from(STATUSES), max_size=120), st.sampled_from(STATUSES), st.randoms())
def test_one_more_unit_moves_the_rates_the_way_its_status_says(statuses, added, rng):
    before = summarize(statuses)
    shuffled = list(statuses)
    rng.shuffle(shuffled)
    assert summarize(shuffled) == before, "the order of the units does not matter"
    after = summarize([*statuses, added])
    assert after["expected"] == before["expected"] + 1 and after[added] == before[added] + 1
    if added == "on_time":
        assert after["on_time_rate"] >= before["on_time_rate"] and after["reporting_rate"] >= before["reporting_rate"]
    elif added == "late":
        assert after["reporting_rate"] >= before["reporting_rate"] and after["on_time_rate"] <= before["on_time_rate"]
    else:  # missing or pending: nothing reported
        assert after["reporting_rate"] <= before["reporting_rate"] and after["on_time_rate"] <= before["on_time_rate"]
    for summary in (before, after):
        assert 0.0 <= summary["on_time_rate"] <= summary["reporting_rate"] <= 1.0


@BOUNDED
@given(st.integers(-86400, 86400), st.integers(-86400, 86400), st.integers(0, 86400))
def test_a_submission_counts_exactly_when_it_came_before_the_close(submitted_s, closed_s, later_s):
    base = datetime(2019, 6, 26, tzinfo=UTC)
    submitted, closed = base + timedelta(seconds=submitted_s), base + timedelta(seconds=closed_s)
    assert counts_after_close(submitted_at=submitted, closed_at=closed) == (submitted < closed)
    assert counts_after_close(submitted_at=submitted, closed_at=None)
    assert not counts_after_close(submitted_at=None, closed_at=closed)
    if counts_after_close(submitted_at=submitted, closed_at=closed):
        assert counts_after_close(submitted_at=submitted, closed_at=closed + timedelta(seconds=later_s))
