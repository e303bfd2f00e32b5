"""The scheduler's rounds, without PostgreSQL: whom a reminder, an overdue notice, the escalation digest and
the close reach (the timeliness rule at the row's instant), and that each notice happens once."""

from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    OBLIGATION_UPDATED,
    PERIOD_CLOSED,
    REMINDER_DUE,
)
from deadlines.handlers import compliance, submissions
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.scheduler import fire_period
from services.deadlines.tests.unit.fakes import DUE, HAI_DUONG, JUNE, hai_duong, submission, vn


async def opened(units: list[str]):
    uow, plan = await hai_duong(units)
    await open_due_periods(uow, now=vn(10, 10))
    return uow, plan


async def fire(uow, plan, now) -> int:
    return await fire_period(uow, "30", plan.id, JUNE, now=now)


async def test_a_reminder_goes_to_every_unit_that_has_not_submitted_once_even_when_its_row_fires_again():
    uow, plan = await opened(["CA", "BTG", "STP"])
    await submissions.submission_recorded(uow, submission("CA", vn(11, 9)))

    assert await fire(uow, plan, vn(12, 8, 5)) == 1
    reminders = uow.events_of(REMINDER_DUE)
    assert [(r.unit, r.sequence, r.day_offset, r.late_by_s) for r in reminders] == [
        ("BTG", 0, -3, None),
        ("STP", 0, -3, None),
    ]
    assert uow.schedule.state_of("reminder", 0) == "fired"

    for item in uow.schedule.items:  # the row fires again (a replay): its notices are taken already
        if (item.kind, item.sequence) == ("reminder", 0):
            item.state = "pending"
    assert await fire(uow, plan, vn(12, 8, 10)) == 1
    assert len(uow.events_of(REMINDER_DUE)) == 2


async def test_after_the_deadline_reminders_stay_silent_and_overdue_notices_go_to_the_units_still_missing():
    uow, plan = await opened(["CA", "BTG", "STP"])
    await submissions.submission_recorded(uow, submission("CA", vn(15, 23)))
    await submissions.submission_recorded(uow, submission("STP", vn(16, 7)))  # late, but not missing

    # three reminders, the first overdue notice, the escalation; and the province's first reminder (its report to the
    # national office is due on the 20th)
    assert await fire(uow, plan, vn(16, 9)) == 6
    assert uow.events_of(REMINDER_DUE) == []
    [overdue] = uow.events_of(DEADLINE_MISSED)
    assert (overdue.unit, overdue.sequence, overdue.late_by_s) == ("BTG", 0, 8 * 3600)
    [digest] = uow.events_of(ESCALATION_RAISED)
    assert (digest.expected, digest.missing_units) == (3, [{"unit": "BTG", "unit_name": "Ban Tuyên giáo Tỉnh ủy"}])


async def test_no_escalation_when_every_unit_has_reported():
    uow, plan = await opened(["CA", "BTG"])
    for unit in ("CA", "BTG"):
        await submissions.submission_recorded(uow, submission(unit, vn(14, 9)))
    await fire(uow, plan, vn(16, 9))
    assert uow.events_of(ESCALATION_RAISED) == uow.events_of(DEADLINE_MISSED) == []


async def test_the_close_settles_the_figures_and_a_submission_after_it_does_not_count():
    uow, plan = await opened(["CA", "BTG", "STP"])
    await submissions.submission_recorded(uow, submission("CA", vn(15, 9)))
    await submissions.submission_recorded(uow, submission("BTG", vn(17, 9)))

    await fire(uow, plan, vn(25, 0, 1))
    [closed] = uow.events_of(PERIOD_CLOSED)
    assert (closed.expected, closed.on_time, closed.late, closed.missing) == (3, 1, 1, 1)
    assert closed.closed_at == vn(25) and all(u.closed for u in closed.units)
    assert uow.periods.rows["30", plan.id, JUNE].closed_at == vn(25)

    await submissions.submission_recorded(uow, submission("STP", vn(26, 9)))
    found = await compliance.period_compliance(uow, province=HAI_DUONG.province, plan=plan, period=JUNE, now=vn(27))
    assert {u["unit"]: u["status"] for u in found["units"]} == {"BTG": "late", "CA": "on_time", "STP": "missing"}
    assert found["due_at"] == DUE
    assert (found["state"], found["final"]) == ("closed", True)
    assert not any(u["after_close"] for u in found["units"])


async def test_a_report_accepted_after_the_close_under_an_exception_counts_late_and_says_so():
    uow, plan = await opened(["CA", "BTG", "STP"])
    await submissions.submission_recorded(uow, submission("CA", vn(15, 9)))
    await fire(uow, plan, vn(25, 0, 1))

    excepted = submission("STP", vn(26, 9)).model_copy(update={"after_close": True})
    await submissions.submission_recorded(uow, excepted)
    found = await compliance.period_compliance(uow, province=HAI_DUONG.province, plan=plan, period=JUNE, now=vn(27))
    units = {u["unit"]: (u["status"], u["after_close"]) for u in found["units"]}
    assert units == {"BTG": ("missing", False), "CA": ("on_time", False), "STP": ("late", True)}
    assert (found["summary"]["late"], found["summary"]["missing"]) == (1, 1)
    [told] = [e for e in uow.events_of(OBLIGATION_UPDATED) if e.unit == "STP"]
    assert (told.status, told.first_submitted_at) == ("late", vn(26, 9))


async def test_an_imported_report_owes_nothing_and_changes_no_figure():
    uow, plan = await opened(["CA", "BTG"])
    before = await compliance.period_compliance(uow, province=HAI_DUONG.province, plan=plan, period=JUNE, now=vn(20))
    await submissions.submission_recorded(uow, submission("CA", vn(14, 9)).model_copy(update={"imported": True}))
    await submissions.submission_recorded(
        uow, submission("SYT", vn(14, 9)).model_copy(update={"imported": True, "period": "2019-05"})
    )
    after = await compliance.period_compliance(uow, province=HAI_DUONG.province, plan=plan, period=JUNE, now=vn(20))
    assert after == before and after["summary"]["missing"] == 2
    assert ("30", plan.id, "2019-05", "SYT") not in uow.obligations.rows
    assert uow.events_of(OBLIGATION_UPDATED) == []


async def test_a_period_another_instance_holds_fires_nothing():
    uow, plan = await opened(["CA"])
    uow.periods.held_elsewhere.add(("30", plan.id, JUNE))
    assert await fire(uow, plan, vn(16, 9)) == 0
    assert uow.published == []
    assert uow.schedule.state_of("reminder", 0) == "pending"
