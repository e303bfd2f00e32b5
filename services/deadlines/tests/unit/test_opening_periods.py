"""Opening a period, without PostgreSQL: who owes it as the plan and its units change, which notices are
scheduled, and the announcement of submissions that came before the period opened."""

from datetime import date

from baocao_shared.events.deadlines import OBLIGATION_UPDATED
from deadlines.handlers import catalog, submissions
from deadlines.handlers.periods import open_due_periods
from services.deadlines.tests.unit.fakes import DUE, JUNE, UNITS, hai_duong, submission, vn


def owing(uow) -> dict[str, bool]:
    return {r.unit: r.expected for r in uow.obligations.rows.values()}


async def test_each_unit_of_the_plan_owes_the_period_it_opens_in_and_every_notice_is_scheduled():
    joins_later = UNITS["SYT"].model_copy(update={"code": "NEW", "active_from": date(2019, 6, 20)})
    uow, plan = await hai_duong(["CA", "BTG", "STP"], plan_units=["CA", "BTG", "STP", "NEW"], extra=[joins_later])
    await catalog.unit_upserted(uow, UNITS["SYT"])  # in the catalogue, not in the plan

    assert await open_due_periods(uow, now=vn(10, 10)) == [("30", plan.id, JUNE)]

    assert owing(uow) == {"CA": True, "BTG": True, "STP": True}  # NEW owes from July on, SYT not at all
    assert {r.due_at for r in uow.obligations.rows.values()} == {DUE}
    assert sorted((i.kind, i.sequence, i.state) for i in uow.schedule.items) == sorted([
        ("close", 0, "pending"),
        ("escalation", 0, "pending"),
        *(("overdue", n, "pending") for n in range(3)),
        *(("reminder", n, "pending") for n in range(3)),
        # the national level: the province owes its report to the national office, on the same offsets
        ("national_close", 0, "pending"),
        ("national_escalation", 0, "pending"),
        *(("province_overdue", n, "pending") for n in range(3)),
        *(("province_reminder", n, "pending") for n in range(3)),
    ])  # fmt: skip
    assert not uow.catalog.changed  # looked at: the next tick opens nothing again
    assert await open_due_periods(uow, now=vn(10, 11)) == []


async def test_a_plan_whose_units_are_still_arriving_opens_nothing_until_every_one_is_known():
    """A province's load arrives as many events over several partitions: the plan may come before some of its
    units. A closed period opened then would be owed by part of the units for good."""
    uow, plan = await hai_duong(["CA"], plan_units=["CA", "BTG", "STP"])
    late_in_july = vn(20, 10, month=7)  # June is closed (its close was on the 25th of June)

    assert await open_due_periods(uow, now=late_in_july) == []
    await catalog.unit_upserted(uow, UNITS["BTG"])
    assert await open_due_periods(uow, now=late_in_july) == []
    await catalog.unit_upserted(uow, UNITS["STP"])
    assert ("30", plan.id, JUNE) in await open_due_periods(uow, now=late_in_july)

    june = {r.unit: r.expected for r in uow.obligations.rows.values() if r.period == JUNE}
    assert june == {"CA": True, "BTG": True, "STP": True}


async def test_a_period_opened_late_skips_the_notices_already_past_but_never_the_close():
    uow, plan = await hai_duong(["CA"])
    assert await open_due_periods(uow, now=vn(17, 10)) == [("30", plan.id, JUNE), ("30", plan.id, "2019-07")]
    states = {(i.kind, i.sequence): i.state for i in uow.schedule.items if i.period == JUNE}
    assert {key for key, state in states.items() if state == "skipped"} == {
        ("reminder", 0),
        ("reminder", 1),
        ("reminder", 2),
        ("overdue", 0),
        ("escalation", 0),
        ("province_reminder", 0),  # the province's first reminder, 16 June 08:00 (its deadline is the 20th)
    }
    assert states[("overdue", 1)] == states[("close", 0)] == "pending"


async def test_while_the_period_is_open_units_that_leave_the_plan_or_retire_stop_owing_and_newcomers_owe():
    uow, plan = await hai_duong(["CA", "BTG", "STP", "SNGV"])
    await open_due_periods(uow, now=vn(10, 10))

    await catalog.plan_upserted(uow, plan.model_copy(update={"units": ["CA", "BTG", "SNGV", "STTTT"]}))
    await catalog.unit_upserted(uow, UNITS["SNGV"].model_copy(update={"active": False}))
    await catalog.unit_upserted(uow, UNITS["STTTT"])
    await open_due_periods(uow, now=vn(11, 10))
    assert owing(uow) == {"CA": True, "BTG": True, "STP": False, "SNGV": False, "STTTT": True}

    await catalog.plan_upserted(uow, plan)  # STP back in the plan; the retired SNGV still owes nothing
    await open_due_periods(uow, now=vn(11, 11))
    assert owing(uow) == {"CA": True, "BTG": True, "STP": True, "SNGV": False, "STTTT": False}


async def test_a_submission_that_came_before_its_period_opened_is_announced_once_when_it_opens():
    uow, _ = await hai_duong(["CA", "BTG"])
    await submissions.submission_recorded(uow, submission("BTG", vn(9, 9)))
    assert uow.events_of(OBLIGATION_UPDATED) == []  # its deadline is not known yet

    await open_due_periods(uow, now=vn(10, 10))
    [announced] = uow.events_of(OBLIGATION_UPDATED)
    assert (announced.unit, announced.status, announced.due_at) == ("BTG", "on_time", DUE)

    await catalog.unit_upserted(uow, UNITS["CA"])  # the plan is looked at again: nothing is told twice
    await open_due_periods(uow, now=vn(11, 10))
    await submissions.submission_recorded(uow, submission("BTG", vn(12, 9), version=2, first=vn(9, 9)))
    assert len(uow.events_of(OBLIGATION_UPDATED)) == 1


async def test_a_first_submission_is_announced_once_when_it_arrives_and_a_late_one_says_how_late():
    uow, _ = await hai_duong(["CA", "BTG"])
    await open_due_periods(uow, now=vn(10, 10))
    await submissions.submission_recorded(uow, submission("CA", vn(16, 9)))
    await submissions.submission_recorded(uow, submission("CA", vn(17, 9), version=2, first=vn(16, 9)))

    [late] = uow.events_of(OBLIGATION_UPDATED)
    assert (late.unit, late.status, late.late_by_s) == ("CA", "late", 9 * 3600)
    # Whether the amendment is flagged is the SQL's (adapters/obligations.py): tests/integration/test_month.py.
