"""Reading the report and the national roll-up as use cases on in-memory repositories: who reads what, the
plan and period an address names, and the national totals over published reports only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baocao_shared.errors import Forbidden, NotFound, Unprocessable
from consolidation.domain.errors import (
    NotTheNationalOffice,
    NotTheReportsReader,
    PeriodNotInPlan,
    PlanAmbiguous,
    ReportNotPublished,
    UnknownPlan,
)
from consolidation.domain.report import ReportAddress
from consolidation.handlers import national, projection, reports, workflow
from services.consolidation.tests.unit.fakes import FakePress
from services.consolidation.tests.unit.world import JUNE, NEIGHBOURS_PLAN, NOW, PERIOD, PLAN, Who, submission, world


async def read(uow, principal, *, province="30", plan_id=None, period=PERIOD):
    address = ReportAddress(province=province, period=period, plan_id=plan_id)
    return await reports.read_report(uow, principal=principal, address=address, now=NOW)


async def publish_june(uow, principal=Who.OPERATOR, province="30") -> None:
    address = ReportAddress(province, PERIOD)
    await workflow.approve(uow, principal=principal, address=address, now=NOW)
    await workflow.publish(uow, principal=principal, address=address, now=NOW + timedelta(minutes=1), press=FakePress())


@pytest.mark.parametrize("principal", [Who.OPERATOR, Who.ADMIN], ids=lambda p: p.subject)
async def test_the_provinces_operators_and_admins_read_the_draft(principal):
    report = await read(await world(), principal)
    assert report.status == "draft" and report.totals["t1_sessions"] == 3
    assert report.discipline.on_time == 1 and report.discipline.missing == 1  # BTG: due 16/06, now 18/06


@pytest.mark.parametrize("principal", [Who.REPORTER, Who.NEIGHBOURS_OPERATOR], ids=lambda p: p.subject)
async def test_a_unit_and_another_provinces_operator_do_not_read_it(principal):
    with pytest.raises(NotTheReportsReader) as refused:
        await read(await world(), principal)
    assert isinstance(refused.value, Forbidden) and refused.value.details is None
    assert refused.value.message == "The consolidated report is for the province's operators and the national office."


async def test_the_national_office_reads_a_report_only_once_it_is_published():
    uow = await world()
    with pytest.raises(ReportNotPublished) as refused:
        await read(uow, Who.NATIONAL)
    assert (refused.value.province_name, refused.value.period) == ("Hải Dương", PERIOD)
    assert refused.value.message == "The national office sees a province's report once it is published."
    await publish_june(uow)
    assert (await read(uow, Who.NATIONAL)).status == "published"


async def test_the_printed_date_is_today_then_the_day_of_publishing_in_the_provinces_time():
    uow = await world()

    async def printed_on(now):
        printed = await reports.printable_report(uow, principal=Who.OPERATOR, address=JUNE, now=now)
        return printed.issued_on.isoformat()

    assert await printed_on(NOW - timedelta(hours=1)) == "2019-06-18"  # 01:00 UTC is 08:00 in Hải Dương
    await publish_june(uow)
    assert await printed_on(NOW + timedelta(days=30)) == "2019-06-18"


async def test_an_address_without_a_plan_id_needs_one_when_the_province_has_several():
    uow = await world()
    second = PLAN.model_copy(update={"id": "hd-2"})
    await projection.plan_upserted(uow, second)
    with pytest.raises(PlanAmbiguous) as refused:
        await read(uow, Who.OPERATOR)
    assert isinstance(refused.value, Unprocessable)
    assert refused.value.details == {"plan_ids": ["hd-2", PLAN.id]} == {"plan_ids": refused.value.plan_ids}
    assert (await read(uow, Who.OPERATOR, plan_id=PLAN.id)).plan_id == PLAN.id
    choice = await reports.plan_choice(uow, province="30")
    assert choice.province.name == "Hải Dương" and [p.id for p in choice.plans] == ["hd-2", PLAN.id]


async def test_an_unknown_plan_and_a_period_not_of_the_plan_are_named():
    uow = await world()
    with pytest.raises(UnknownPlan) as unknown:
        await read(uow, Who.OPERATOR, plan_id="nope")
    assert isinstance(unknown.value, NotFound) and unknown.value.message == "Province 30 has no active plan 'nope'."
    with pytest.raises(UnknownPlan) as none:
        await read(uow, Who.ADMIN, province="99")
    assert none.value.message == "No plan of province 99 is known here yet."
    with pytest.raises(PeriodNotInPlan) as period:
        await read(uow, Who.OPERATOR, period="2019-Q2")  # a monthly plan
    assert isinstance(period.value, Unprocessable) and "2019-Q2" in period.value.message


@pytest.mark.parametrize(
    ("principal", "status", "steps"),
    [
        (Who.OPERATOR, "draft", {"approve"}),
        (Who.ADMIN, "approved", {"publish"}),
        (Who.OPERATOR, "published", set()),
        (Who.NATIONAL, "approved", set()),
    ],
)
async def test_the_page_offers_only_the_steps_the_principal_may_take_now(principal, status, steps):
    report = (await read(await world(), Who.OPERATOR)).model_copy(update={"status": status})
    assert reports.open_steps(principal, report) == steps


async def test_the_national_totals_are_over_published_reports_only_in_the_regime_s_codes():
    uow = await world()
    await projection.submission_recorded(uow, submission("CA", 1, {"t1_sessions": 100}, plan=NEIGHBOURS_PLAN))
    await publish_june(uow, Who.NEIGHBOURS_OPERATOR, "31")
    await workflow.approve(uow, principal=Who.OPERATOR, address=JUNE, now=NOW)
    answer = await national.national(uow, principal=Who.NATIONAL, period=PERIOD)
    assert {(p["province"], p["status"]) for p in answer["provinces"]} == {("30", "approved"), ("31", "published")}
    assert "totals" not in answer, "no total across regimes"
    [regime] = answer["regimes"]
    assert (regime["regime"], regime["number"]) == ("nhan-quyen", "01/HD-VPTT (demo)")
    assert regime["totals"]["hoi_nghi_quan_triet"] == 100 and "t1_sessions" not in regime["totals"]
    assert [(p["province"], p["status"], p["totals"].get("hoi_nghi_quan_triet")) for p in regime["provinces"]] == [
        ("30", "approved", None),
        ("31", "published", 100),
    ]
    assert regime["missing"] == [{"province": "30", "province_name": "Hải Dương", "plan_id": PLAN.id}]
    assert answer["published"] == 1 and answer["unmapped"] == []
    assert answer["not_reported"] == [{"province": "30", "province_name": "Hải Dương", "plan_id": PLAN.id}]


async def test_a_plan_in_no_national_regime_is_listed_as_unmapped_and_counted_in_no_total():
    uow = await world()
    await projection.plan_upserted(uow, NEIGHBOURS_PLAN.model_copy(update={"national": None}))
    await projection.submission_recorded(uow, submission("CA", 1, {"t1_sessions": 100}, plan=NEIGHBOURS_PLAN))
    await publish_june(uow, Who.NEIGHBOURS_OPERATOR, "31")
    answer = await national.national(uow, principal=Who.NATIONAL, period=PERIOD)
    assert answer["unmapped"] == [{"province": "31", "plan_id": "lg-1", "status": "published"}]
    [regime] = answer["regimes"]
    assert [p["province"] for p in regime["provinces"]] == ["30"] and regime["totals"] == {}


@pytest.mark.parametrize("principal", [Who.OPERATOR, Who.REPORTER], ids=lambda p: p.subject)
async def test_the_roll_up_is_the_national_offices(principal):
    with pytest.raises(NotTheNationalOffice):
        await national.national(await world(), principal=principal, period=PERIOD)
    assert (await national.national(await world(), principal=Who.ADMIN, period=PERIOD))["published"] == 0


async def test_the_pages_open_on_the_newest_month_with_reports_up_to_this_one():
    uow = await world()
    assert await national.latest_period(uow, now=NOW + timedelta(days=60)) == PERIOD
    assert await national.latest_period(uow, now=NOW + timedelta(days=60), province="31") == "2019-08", "none there"
    assert await national.latest_period(uow, now=NOW - timedelta(days=40), province="30") == "2019-05", "June is later"
    regimes = await national.regimes(uow)
    assert regimes["nhan-quyen"].template.tasks[0].indicators[0].label == "Hội nghị, buổi quán triệt"


@pytest.mark.parametrize("period", ["2019-Y", "2019-H1", "2019-Q2"])
async def test_a_monthly_plan_owes_no_report_of_a_year_half_or_quarter(period):
    """The roll-up of 2019-Y lists nobody as missing a yearly report their monthly plans never asked for."""
    answer = await national.national(await world(), principal=Who.NATIONAL, period=period)
    assert (answer["provinces"], answer["regimes"], answer["not_reported"]) == ([], [], [])
