"""Who may send a version of a unit's report and how it is recorded (intake.domain.entry): the unit's own
account sends its own unit's only; its province's office enters one on its behalf; an office of another province,
a reporter of another unit and the national office are refused by name."""

import pytest

from baocao_shared.principal import Principal, Role
from intake.domain import errors
from intake.domain.entry import Entry, entry_for

REPORTER = Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA")
IN_FORM = Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA", via="session")
OPERATOR = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
NATIONAL = Principal(subject="national", role=Role.NATIONAL_OPERATOR)
ADMIN = Principal(subject="admin", role=Role.ADMIN)


@pytest.mark.parametrize(
    ("principal", "province", "unit", "expected"),
    [
        (REPORTER, "30", "CA", Entry("api")),
        (IN_FORM, "30", "CA", Entry("web")),
        (REPORTER, "30", "BTG", errors.NotYourUnit),
        (REPORTER, "01", "CA", errors.NotYourUnit),
        (OPERATOR, "30", "CA", Entry("on_behalf", "op-30")),
        (OPERATOR, "30", "BTG", Entry("on_behalf", "op-30")),
        (OPERATOR, "01", "CA", errors.NotYourProvincesUnit),
        (NATIONAL, "30", "CA", errors.NotAReporter),
        (NATIONAL, "01", "CA", errors.NotAReporter),
        (ADMIN, "30", "CA", Entry("on_behalf", "admin")),
        (ADMIN, "01", "CA", Entry("on_behalf", "admin")),
    ],
)
def test_each_role_sends_for_its_own_unit_or_province_or_is_refused_by_name(principal, province, unit, expected):
    if isinstance(expected, Entry):
        assert entry_for(principal, province=province, unit=unit) == expected
    else:
        with pytest.raises(expected) as refused:
            entry_for(principal, province=province, unit=unit)
        assert refused.value.code == "forbidden"


def test_the_office_says_where_a_report_came_from_and_a_unit_says_nothing():
    assert entry_for(OPERATOR, province="30", unit="CA", source="email") == Entry("on_behalf", "op-30", "email")
    with pytest.raises(errors.SourceOnlyOnBehalf):
        entry_for(REPORTER, province="30", unit="CA", source="paper")


def test_another_provinces_operator_is_told_whose_unit_it_is():
    with pytest.raises(errors.NotYourProvincesUnit) as refused:
        entry_for(Principal(subject="op-01", role=Role.PROVINCE_OPERATOR, province="01"), province="30", unit="CA")
    assert refused.value.details == {"province": "30", "unit": "CA", "own_province": "01"}
