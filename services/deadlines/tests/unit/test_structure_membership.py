"""Who owes a period follows the structure in force in it (issue 17, part 2): a unit owes only the periods it is in
force in (valid_from..valid_to, months, inclusive), a reorganisation loaded late stops the obligations it ends,
and a province no longer in force opens none of its plan's later periods."""

from datetime import date

import pytest

from deadlines.domain.membership import owes, stops_owing
from deadlines.handlers import catalog, submissions
from deadlines.handlers.periods import open_due_periods
from services.deadlines.tests.unit.fakes import HAI_DUONG, JUNE, PLAN_467, UNITS, hai_duong, submission, vn

JULY = "2019-07"
WINDOW_END = date(2019, 6, 30)


def unit(code: str = "CA", **fields):
    return UNITS[code].model_copy(update=fields)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "period", "owed"),
    [
        (None, None, JUNE, True),
        (None, JUNE, JUNE, True),  # its last month: still owed (history kept)
        (None, JUNE, JULY, False),  # retired: never a later period
        (JULY, None, JUNE, False),  # in force from July: nothing before
        (JULY, None, JULY, True),
        ("2019-01", "2019-12", JULY, True),
        ("2019-08", "2019-12", JULY, False),
    ],
)
def test_a_unit_owes_only_the_periods_it_is_in_force_in(valid_from, valid_to, period, owed):
    plan = PLAN_467.model_copy(update={"units": ["CA"]})
    assert owes(unit(valid_from=valid_from, valid_to=valid_to), plan, period, WINDOW_END) is owed


def test_validity_adds_to_the_other_rules_it_never_replaces_them():
    plan = PLAN_467.model_copy(update={"units": ["CA"]})
    assert not owes(unit(active=False, valid_to=JULY), plan, JUNE, WINDOW_END)  # retired by `active`
    assert not owes(unit(active_from=date(2019, 7, 1)), plan, JUNE, WINDOW_END)  # active from a later window
    assert not owes(unit("BTG"), plan, JUNE, WINDOW_END)  # not in the plan


def test_an_obligation_outside_the_units_validity_stops_unless_its_report_arrived():
    retired = unit(valid_to=JUNE)
    assert stops_owing(retired, JULY, submitted=False)
    assert not stops_owing(retired, JULY, submitted=True)
    assert not stops_owing(retired, JUNE, submitted=False)


def owing(uow, period: str) -> dict[str, bool]:
    return {r.unit: r.expected for r in uow.obligations.rows.values() if r.period == period}


async def test_units_retired_in_june_owe_june_and_units_from_july_owe_july():
    retired, commune = unit("CA", valid_to=JUNE), unit("BTG", valid_from=JULY)
    uow, plan = await hai_duong(["STP"], plan_units=["CA", "BTG", "STP"], extra=[retired, commune])
    assert await open_due_periods(uow, now=vn(17, 10)) == [("30", plan.id, JUNE), ("30", plan.id, JULY)]
    assert owing(uow, JUNE) == {"CA": True, "STP": True}
    assert owing(uow, JULY) == {"BTG": True, "STP": True}


async def test_a_retirement_loaded_late_stops_the_later_obligations_without_a_report():
    uow, _ = await hai_duong(["CA", "BTG", "STP"])
    await open_due_periods(uow, now=vn(17, 10))  # June and July, owed by all three
    early = submission("BTG", vn(2, 9, month=7)).model_copy(update={"period": JULY})
    await submissions.submission_recorded(uow, early)

    for code in ("CA", "BTG"):  # a reorganisation loaded late: both ended with June
        await catalog.unit_upserted(uow, unit(code, valid_to=JUNE))
    assert owing(uow, JULY) == {"CA": False, "BTG": True, "STP": True}  # BTG's report stays on record, owed
    assert owing(uow, JUNE) == {"CA": True, "BTG": True, "STP": True}  # history kept

    await open_due_periods(uow, now=vn(18, 10))  # the scheduler's re-check agrees
    assert owing(uow, JULY) == {"CA": False, "BTG": True, "STP": True}


async def test_a_province_no_longer_in_force_opens_none_of_its_plans_later_periods():
    uow, plan = await hai_duong(["CA"])
    await catalog.province_upserted(uow, HAI_DUONG.province.model_copy(update={"valid_to": JUNE}))
    assert await open_due_periods(uow, now=vn(17, 10)) == [("30", plan.id, JUNE)]


async def test_a_province_ended_by_a_late_update_stops_its_plans_later_obligations_unless_a_report_arrived():
    uow, _ = await hai_duong(["CA", "BTG"])
    await open_due_periods(uow, now=vn(17, 10))  # June and July, owed by both
    early = submission("BTG", vn(2, 9, month=7)).model_copy(update={"period": JULY})
    await submissions.submission_recorded(uow, early)

    await catalog.province_upserted(uow, HAI_DUONG.province.model_copy(update={"valid_to": JUNE}))
    assert await open_due_periods(uow, now=vn(17, 11)) == [("30", PLAN_467.id, JUNE)]  # re-checked, July not
    assert owing(uow, JULY) == {"CA": False, "BTG": True}  # BTG's report stays on record, owed
    assert owing(uow, JUNE) == {"CA": True, "BTG": True}  # history kept


async def test_only_a_change_of_validity_looks_for_obligations_to_stop():
    """A province's reload sends every unit again: the obligations are scanned only for a unit whose validity
    changed, and not for a unit stored the first time (it owes nothing yet)."""
    uow, _ = await hai_duong(["CA", "BTG"])
    await open_due_periods(uow, now=vn(17, 10))
    assert uow.obligations.not_in_force_calls == 0
    for code in ("CA", "BTG"):
        await catalog.unit_upserted(uow, unit(code))  # the reload: as stored
    assert uow.obligations.not_in_force_calls == 0
    await catalog.unit_upserted(uow, unit("CA", valid_to=JUNE))
    assert uow.obligations.not_in_force_calls == 1
    assert owing(uow, JULY) == {"CA": False, "BTG": True}
