"""The province's deadline at the national office (DOMAIN.md, "The reporting calendar": "the province's
consolidated report is due at the national office on the 20th"; Decree 09/2019/NĐ-CP Art. 8 §5): the units'
month arithmetic and non-working-day policy, on the plan's `province_due_day`."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from baocao_shared.calendar import due_at, parse_period, province_due_at, province_due_date
from baocao_shared.events.catalog import CalendarV1
from baocao_testing.samples import PLAN_467_CALENDAR as PLAN_467

TZ = "Asia/Ho_Chi_Minh"
HCM = ZoneInfo(TZ)


def plan(**changes) -> CalendarV1:
    return CalendarV1.model_validate({**PLAN_467, **changes})


def test_plan_467_november_2026_units_by_the_16th_the_province_by_the_20th():
    period = parse_period("2026-11")
    assert due_at(period, plan(), TZ) == datetime(2026, 11, 16, tzinfo=HCM)
    assert province_due_at(period, plan(), TZ) == datetime(2026, 11, 20, tzinfo=HCM)


def test_the_month_offset_applies_to_the_province_as_to_the_units():
    period = parse_period("2026-Q4", "quarterly")
    calendar = plan(frequency="quarterly", due_month_offset=1)
    assert province_due_date(period, calendar) == date(2027, 1, 20)


def test_a_province_deadline_on_a_sunday_is_kept_or_moved_as_the_plan_says():
    period = parse_period("2026-09")  # 20 September 2026 is a Sunday
    assert province_due_date(period, plan()) == date(2026, 9, 20)
    # "Before the 20th" is met by the end of the last working day before it: Saturday 19th is not one, so the
    # province gets until the end of Monday 21st, due at 00:00 on the 22nd.
    assert province_due_date(period, plan(non_working_day_policy="next_working_day")) == date(2026, 9, 22)


def test_the_province_day_is_a_setting_of_the_plan():
    assert province_due_at(parse_period("2026-11"), plan(province_due_day=25), TZ) == datetime(2026, 11, 25, tzinfo=HCM)
