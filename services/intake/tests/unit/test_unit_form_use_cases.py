"""What a unit's form pages are given, on the in-memory unit of work: its plans and periods, and why not."""

from datetime import timedelta

import pytest

from baocao_shared.principal import Principal, Role
from intake.domain.errors import PeriodNotReportable, PlanNotForUnit, ReportNotReadable, UnitNotInCatalogue
from intake.domain.models import SubmissionIn
from intake.handlers import submissions, unit_form

PLAN_ID = "hd-467-2019"


def june_report(hai_duong, unit: str = "CA") -> SubmissionIn:
    values = {i.code: 0 for t in hai_duong.plans[0].template.tasks for i in t.indicators}
    return SubmissionIn(plan_id=PLAN_ID, unit=unit, period="2019-06", values=values)


async def test_the_units_plans_carry_its_reports_and_the_locked_periods(uow, hai_duong, as_reporter, now):
    await submissions.submit(uow, principal=as_reporter(), body=june_report(hai_duong), now=now)
    await submissions.submit(uow, principal=as_reporter("BTG"), body=june_report(hai_duong, "BTG"), now=now)
    uow.locks.locked.add(("30", PLAN_ID, "2019-05"))
    [found] = await unit_form.unit_plans(uow, principal=as_reporter())
    assert (found.plan.id, list(found.submitted), found.locked) == (PLAN_ID, ["2019-06"], {"2019-05"})
    assert found.submitted["2019-06"].unit == "CA", "the unit's own reports only"


async def test_one_periods_report_is_for_a_plan_of_the_unit_and_an_open_period(uow, as_reporter, now):
    report = await unit_form.unit_report(uow, principal=as_reporter(), plan_id=PLAN_ID, period="2019-06", now=now)
    assert (report.unit.code, report.period, report.existing, report.locked) == ("CA", "2019-06", None, False)
    with pytest.raises(PlanNotForUnit):
        await unit_form.unit_report(uow, principal=as_reporter(), plan_id="other", period="2019-06", now=now)
    with pytest.raises(PeriodNotReportable) as refused:
        await unit_form.unit_report(uow, principal=as_reporter(), plan_id=PLAN_ID, period="2019-07", now=now)
    assert refused.value.reason.startswith("Kỳ 2019-07 chưa bắt đầu")
    july = now + timedelta(days=5)
    assert (
        await unit_form.unit_report(uow, principal=as_reporter(), plan_id=PLAN_ID, period="2019-07", now=july)
    ).period


async def test_a_reporter_of_a_unit_not_in_the_catalogue_has_no_form(uow, as_reporter):
    with pytest.raises(UnitNotInCatalogue):
        await unit_form.unit_of(uow, principal=as_reporter("GONE"))


async def test_a_receipt_is_for_those_who_may_read_the_unit(uow, hai_duong, as_reporter, now):
    receipt = await submissions.submit(uow, principal=as_reporter(), body=june_report(hai_duong), now=now)
    submission, province, plan = await unit_form.receipt(uow, principal=as_reporter(), submission_id=receipt.id)
    assert (submission.version, province.code, plan.id) == (1, "30", PLAN_ID)
    operator = Principal(subject="op-01", role=Role.PROVINCE_OPERATOR, province="01")
    with pytest.raises(ReportNotReadable):
        await unit_form.receipt(uow, principal=operator, submission_id=receipt.id)
