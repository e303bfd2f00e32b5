"""The national level without PostgreSQL (issue 18 §1): provinces owe their published report to the national office,
due on the plan's province_due_day; timeliness, the province's notices, the escalation digest, the national close,
the national compliance and nudges."""

from datetime import UTC, datetime

import pytest

from baocao_shared.events.deadlines import (
    NATIONAL_ESCALATION_RAISED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_NUDGE_REQUESTED,
    PROVINCE_OBLIGATION_UPDATED,
    PROVINCE_REMINDER_DUE,
)
from baocao_shared.events.reports import ConsolidatedReportV1
from baocao_shared.principal import Principal, Role
from deadlines.domain import errors
from deadlines.handlers import catalog, national, national_compliance
from deadlines.handlers.national_compliance import NationalNudgeIn
from deadlines.handlers.periods import open_due_periods
from deadlines.handlers.scheduler import fire_period
from services.deadlines.tests.unit.fakes import HAI_DUONG, JUNE, UNITS, hai_duong, vn

NATIONAL = Principal("vptt", Role.NATIONAL_OPERATOR)
OPERATOR = Principal("op-30", Role.PROVINCE_OPERATOR, province="30")
PROVINCE_DUE = vn(20)  # plan 467: "the province's consolidated report is due at the national office on the 20th"


def published(province: str, at: datetime, plan_id: str) -> ConsolidatedReportV1:
    return ConsolidatedReportV1.model_construct(
        province=province, province_name="?", plan_id=plan_id, period=JUNE, published_at=at
    )


async def two_provinces():
    """Hải Dương (30) and a copy of it as province 99, each with plan 467 over CA, opened on 10 June 2019."""
    uow, plan = await hai_duong(["CA"])
    await catalog.province_upserted(uow, HAI_DUONG.province.model_copy(update={"code": "99", "name": "Tỉnh Chín"}))
    await catalog.unit_upserted(uow, UNITS["CA"].model_copy(update={"province": "99"}))
    await catalog.plan_upserted(uow, plan.model_copy(update={"province": "99"}))
    await open_due_periods(uow, now=vn(10, 10))
    return uow, plan


async def fire_all(uow, plan, now):
    for province in ("30", "99"):
        await fire_period(uow, province, plan.id, JUNE, now=now)
    await national.fire_national_escalations(uow, now=now)


async def test_each_province_owes_the_period_by_its_province_due_day():
    uow, _ = await two_provinces()
    rows = {key[0]: row for key, row in uow.province_obligations.rows.items()}
    assert {code: (row.due_at, row.expected) for code, row in rows.items()} == {
        "30": (PROVINCE_DUE, True),
        "99": (PROVINCE_DUE, True),
    }


async def test_the_first_publication_decides_timeliness_to_the_second_and_a_republish_changes_nothing():
    uow, plan = await two_provinces()
    await national.report_published(uow, published("30", vn(19, 23, 59), plan.id))
    late = datetime(2019, 6, 20, 2, 30, 7, tzinfo=UTC)  # 09:30:07 on the 20th, Hải Dương's time
    await national.report_published(uow, published("99", late, plan.id))
    await national.report_published(uow, published("99", vn(24), plan.id))  # returned, published again

    told = {e.province: e for e in uow.events_of(PROVINCE_OBLIGATION_UPDATED)}
    assert (told["30"].status, told["30"].late_by_s) == ("on_time", None)
    assert (told["99"].status, told["99"].late_by_s, told["99"].first_published_at) == ("late", 9 * 3600 + 1807, late)
    assert len(uow.events_of(PROVINCE_OBLIGATION_UPDATED)) == 2  # each told once

    found = await national_compliance.national_compliance(
        uow, principal=NATIONAL, period=JUNE, plan_id=None, now=vn(27)
    )
    assert [(u["unit"], u["status"], u["late_by_s"]) for u in found["units"]] == [
        ("30", "on_time", None),
        ("99", "late", 9 * 3600 + 1807),
    ]
    assert (found["due_at"], found["summary"]["reporting_rate"], found["summary"]["on_time_rate"]) == (
        PROVINCE_DUE,
        1.0,
        0.5,
    )


async def test_a_publication_before_the_period_opened_is_announced_by_the_opening():
    uow, plan = await hai_duong(["CA"])
    await national.report_published(uow, published("30", vn(9), plan.id))
    assert uow.events_of(PROVINCE_OBLIGATION_UPDATED) == []
    await open_due_periods(uow, now=vn(10, 10))
    [told] = uow.events_of(PROVINCE_OBLIGATION_UPDATED)
    assert (told.province, told.status, told.due_at) == ("30", "on_time", PROVINCE_DUE)


async def test_reminders_overdue_notices_and_one_digest_for_the_provinces_still_missing():
    uow, plan = await two_provinces()
    await fire_all(uow, plan, vn(17, 9))  # the province's reminder -3: 16 June 08:00
    assert [(n.province, n.kind, n.day_offset) for n in uow.events_of(PROVINCE_REMINDER_DUE)] == [
        ("30", "reminder", -3),
        ("99", "reminder", -3),
    ]
    await national.report_published(uow, published("30", vn(18), plan.id))
    await fire_all(uow, plan, vn(19, 9))  # reminders -1 and 0: 18 and 19 June 08:00, to 99 only now
    await fire_all(uow, plan, vn(20, 9))  # overdue +1 and the digest: 20 June 08:00
    assert [(n.province, n.sequence) for n in uow.events_of(PROVINCE_REMINDER_DUE)][2:] == [("99", 1), ("99", 2)]
    [overdue] = uow.events_of(PROVINCE_DEADLINE_MISSED)
    assert (overdue.province, overdue.kind, overdue.late_by_s, overdue.due_at) == ("99", "overdue", 8 * 3600, vn(20))
    [digest] = uow.events_of(NATIONAL_ESCALATION_RAISED)
    assert (digest.period, digest.expected, digest.due_at, digest.plan_ids) == (JUNE, 2, vn(20), [plan.id])
    assert [m.model_dump() for m in digest.missing_provinces] == [
        {"province": "99", "province_name": "Tỉnh Chín", "plan_id": plan.id}
    ]
    await fire_all(uow, plan, vn(20, 10))
    assert len(uow.events_of(NATIONAL_ESCALATION_RAISED)) == 1  # once


async def test_the_national_close_makes_missing_final_and_a_later_publication_does_not_count():
    uow, plan = await two_provinces()
    await fire_all(uow, plan, vn(29, 0, 1))  # the close's +10 from the province's last day (the 19th)
    final = [e for e in uow.events_of(PROVINCE_OBLIGATION_UPDATED) if e.closed]
    assert {(e.province, e.status) for e in final} == {("30", "missing"), ("99", "missing")}
    told = len(uow.events_of(PROVINCE_OBLIGATION_UPDATED))
    await national.report_published(uow, published("30", vn(30), plan.id))
    assert len(uow.events_of(PROVINCE_OBLIGATION_UPDATED)) == told  # the close said "missing" already, once
    found = await national_compliance.national_compliance(
        uow, principal=NATIONAL, period=JUNE, plan_id=None, now=vn(30, 12)
    )
    assert (found["final"], found["state"]) == (True, "closed")
    assert {u["unit"]: u["status"] for u in found["units"]} == {"30": "missing", "99": "missing"}


async def test_only_the_national_office_and_admins_read_the_provinces_and_urge_them():
    uow, _ = await two_provinces()
    with pytest.raises(errors.NationalComplianceNotVisible):
        await national_compliance.national_compliance(uow, principal=OPERATOR, period=JUNE, plan_id=None, now=vn(21))
    order = NationalNudgeIn(period=JUNE, provinces=["99"])
    with pytest.raises(errors.NotTheNationalOffice):
        await national_compliance.nudge_provinces(uow, principal=OPERATOR, order=order, now=vn(21))
    with pytest.raises(errors.NoProvinceOwes):
        await national_compliance.national_compliance(
            uow, principal=NATIONAL, period="2019-05", plan_id=None, now=vn(21)
        )


async def test_a_nudge_reaches_the_provinces_that_have_not_published_and_skips_the_others():
    uow, plan = await two_provinces()
    await national.report_published(uow, published("30", vn(18), plan.id))
    order = NationalNudgeIn(period=JUNE, provinces=["30", "99"], message="Đề nghị gửi ngay.")
    result = await national_compliance.nudge_provinces(uow, principal=NATIONAL, order=order, now=vn(21))
    assert result["sent"] == [{"province": "99", "plan_id": plan.id}]
    assert [s["province"] for s in result["skipped"]] == ["30"]
    [nudge] = uow.events_of(PROVINCE_NUDGE_REQUESTED)
    assert (nudge.province, nudge.kind, nudge.requested_by, nudge.late_by_s) == ("99", "nudge", "vptt", 86400)
    again = await national_compliance.nudge_provinces(uow, principal=NATIONAL, order=order, now=vn(22))
    assert again["sent"] and uow.events_of(PROVINCE_NUDGE_REQUESTED)[1].sequence == 1
    with pytest.raises(errors.ProvincesOweNothing):
        await national_compliance.nudge_provinces(
            uow, principal=NATIONAL, order=NationalNudgeIn(period=JUNE, provinces=["42"]), now=vn(21)
        )
