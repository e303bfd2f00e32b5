"""Who may read a province's compliance and urge its units, and each named refusal, without PostgreSQL."""

import pytest

from baocao_shared.events.deadlines import NUDGE_REQUESTED
from baocao_shared.principal import Principal, Role
from deadlines.domain import errors
from deadlines.handlers import catalog, compliance, dashboard, nudges, submissions
from deadlines.handlers.nudges import NudgeIn
from deadlines.handlers.periods import open_due_periods
from services.deadlines.tests.unit.fakes import JUNE, PLAN_467, hai_duong, submission, vn

OPERATOR = Principal("op-30", Role.PROVINCE_OPERATOR, province="30")
OTHER_OPERATOR = Principal("op-31", Role.PROVINCE_OPERATOR, province="31")
NATIONAL = Principal("vptt", Role.NATIONAL_OPERATOR)
ADMIN = Principal("admin", Role.ADMIN)
REPORTER = Principal("ca", Role.REPORTER, province="30", unit="CA")


async def june(units=("CA", "BTG", "STP")):
    uow, plan = await hai_duong(list(units))
    await open_due_periods(uow, now=vn(10, 10))
    return uow, plan


async def read(uow, principal, *, plan_id=None, period=JUNE):
    return await compliance.compliance(
        uow, principal=principal, province="30", plan_id=plan_id, period=period, now=vn(20)
    )


async def urge(uow, principal, units, *, message=None):
    order = NudgeIn(province="30", period=JUNE, units=units, message=message)
    return await nudges.nudge(uow, principal=principal, order=order, now=vn(17, 10))


@pytest.mark.parametrize("principal", [OPERATOR, NATIONAL, ADMIN])
async def test_the_province_s_operators_the_national_office_and_admins_read_its_compliance(principal):
    uow, plan = await june()
    found = await read(uow, principal)
    assert (found["plan_id"], found["summary"]["expected"], found["summary"]["missing"]) == (plan.id, 3, 3)


@pytest.mark.parametrize("principal", [REPORTER, OTHER_OPERATOR])
async def test_a_reporter_or_another_province_s_operator_may_not(principal):
    uow, _ = await june()
    with pytest.raises(errors.ComplianceNotVisible) as refused:
        await read(uow, principal)
    assert (refused.value.code, refused.value.province) == ("forbidden", "30")
    assert str(refused.value) == "Compliance of a province is for its operators and the national office."


async def test_which_plan_and_period_a_reading_names():
    uow, plan = await june()
    with pytest.raises(errors.UnknownPlan, match=r"^Province 30 has no active plan 'kh-x'\.$"):
        await read(uow, OPERATOR, plan_id="kh-x")
    with pytest.raises(
        errors.PeriodNotTracked, match=r"^Kỳ 2019-09 chưa mở: các đơn vị gửi báo cáo kỳ này từ ngày 15/08/2019\.$"
    ) as not_open:
        await read(uow, OPERATOR, period="2019-09")
    assert not_open.value.code == "not_found"
    assert not_open.value.details == {
        "state": "not_open",
        "tracking_from": "2019-06",
        "opens_at": "2019-08-14T17:00:00Z",
    }
    with pytest.raises(errors.PeriodNotTracked, match=r"^Kỳ 2019-05 nằm ngoài kế hoạch hd-467-2019\.$"):
        await read(uow, OPERATOR, period="2019-05")
    with pytest.raises(errors.PeriodMalformed) as malformed:
        await read(uow, OPERATOR, period="2019-13")
    assert malformed.value.code == "validation_failed"

    await catalog.plan_upserted(uow, plan.model_copy(update={"id": "kh-2"}))
    with pytest.raises(errors.PlanAmbiguous) as ambiguous:
        await read(uow, OPERATOR)
    assert (ambiguous.value.code, ambiguous.value.details) == (
        "validation_failed",
        {"plan_ids": ["hd-467-2019", "kh-2"]},
    )
    assert (await read(uow, OPERATOR, plan_id=plan.id))["plan_id"] == plan.id  # named, it is found


async def test_a_province_without_an_active_plan_says_so():
    uow, plan = await hai_duong(["CA"])
    await catalog.plan_upserted(uow, plan.model_copy(update={"active": False}))
    with pytest.raises(errors.UnknownPlan, match=r"^Province 30 has no active plan here yet\.$"):
        await read(uow, OPERATOR)


async def test_a_nudge_reaches_the_units_that_have_not_reported_and_counts_each_unit_s_nudges():
    uow, plan = await june()
    await submissions.submission_recorded(uow, submission("CA", vn(14, 9)))

    first = await urge(uow, OPERATOR, ["CA", "BTG", "BTG"], message="Đề nghị gửi ngay.")
    assert (first["sent"], first["skipped"]) == (["BTG"], [{"unit": "CA", "reason": "already_submitted"}])
    await urge(uow, ADMIN, ["BTG", "STP"])

    sent = uow.events_of(NUDGE_REQUESTED)
    assert [(n.unit, n.sequence, n.requested_by) for n in sent] == [
        ("BTG", 0, "op-30"),
        ("BTG", 1, "admin"),
        ("STP", 0, "admin"),
    ]
    assert sent[0].message == "Đề nghị gửi ngay." and sent[0].late_by_s == 34 * 3600
    assert sent[0].plan_id == plan.id


@pytest.mark.parametrize(("principal", "oversees"), [(NATIONAL, True), (OTHER_OPERATOR, False), (REPORTER, False)])
async def test_only_the_province_s_own_operators_and_admins_nudge(principal, oversees):
    uow, _ = await june()
    with pytest.raises(errors.NotTheProvincesOperator) as refused:
        await urge(uow, principal, ["BTG"])
    assert (refused.value.code, refused.value.oversees) == ("forbidden", oversees)
    assert str(refused.value) == "Only the province's own operators can urge its units."
    assert uow.published == [] and uow.notices.rows == {}


async def test_a_nudge_naming_a_unit_that_owes_nothing_sends_nothing():
    uow, _ = await june(["CA", "BTG"])
    with pytest.raises(errors.UnitsOweNothing) as refused:
        await urge(uow, OPERATOR, ["BTG", "SYT", "XX"])
    assert refused.value.units == ["SYT", "XX"]
    assert refused.value.details[0] == {
        "loc": ["body", "units", "SYT"],
        "msg": "Đơn vị SYT không có nghĩa vụ báo cáo kỳ 2019-06.",
        "type": "no_obligation",
    }
    assert uow.published == []


async def test_the_dashboard_opens_on_the_newest_due_period_and_asks_for_a_plan_when_there_are_several():
    uow, plan = await june()
    await open_due_periods(uow, now=vn(17, 10))  # opens July as well

    def board(**asked):
        asked = {"plan_id": None, "period": None} | asked
        return dashboard.board(uow, principal=NATIONAL, province="30", now=vn(20), **asked)

    found = await board()
    assert (found.plan.id, found.periods, found.period) == (plan.id, ["2019-07", JUNE], JUNE)
    assert found.history_periods == [JUNE] and set(found.history) == {"CA", "BTG", "STP"}
    with pytest.raises(errors.PeriodNotTracked) as outside:
        await board(period="2019-05")
    assert outside.value.state == "outside_plan"
    with pytest.raises(errors.UnknownProvince):
        await dashboard.board(uow, principal=NATIONAL, province="31", plan_id=None, period=None, now=vn(20))
    with pytest.raises(errors.UnknownPlan) as unknown:
        await board(plan_id="kh-x")
    assert unknown.value.province_name == "Hải Dương"

    await catalog.plan_upserted(uow, PLAN_467.model_copy(update={"id": "kh-2", "first_period": "2030-01"}))
    several = await board()
    assert (several.plan, [p.id for p in several.plans]) == (None, [plan.id, "kh-2"])
    nothing_yet = await board(plan_id="kh-2")
    assert (nothing_yet.plan.id, nothing_yet.period) == ("kh-2", None)
    with pytest.raises(errors.ComplianceNotVisible):
        await dashboard.board(uow, principal=REPORTER, province="30", plan_id=None, period=None, now=vn(20))
