"""The office's entry of a report on a unit's behalf (nhập hộ) through the submission use cases: recorded as
`on_behalf` with the office's account on the version, its audit row and its event; the same rules as the unit's
own report otherwise; refused by name for another province's unit."""

from datetime import timedelta

import pytest

from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.principal import Principal, Role
from intake.domain import errors
from intake.domain.models import AmendmentIn, SubmissionIn
from intake.handlers import periods, submissions

PLAN_ID = "hd-467-2019"
OFFICE = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
FIGURES = {
    code: 1
    for code in (
        "t1_sessions t1_participants t2_campaigns t2_publications t3_updates_sent "
        "t4_domestic_delegations t4_foreign_delegations t5_articles t5_rebuttals"
    ).split()
}


def report(unit: str = "CA", period: str = "2019-06", **kw) -> SubmissionIn:
    return SubmissionIn(plan_id=PLAN_ID, unit=unit, period=period, values=FIGURES, **kw)


async def test_the_office_enters_a_units_report_recorded_as_on_its_behalf(uow, now):
    receipt = await submissions.submit(uow, principal=OFFICE, body=report(source="paper"), now=now)
    got = await submissions.get(uow, principal=OFFICE, submission_id=receipt.id)
    assert (got.province, got.unit, got.submitted_by) == ("30", "CA", "op-30")
    assert (got.channel, got.entered_by, got.source) == ("on_behalf", "op-30", "paper")
    [version] = got.history
    assert (version.channel, version.entered_by, version.source) == ("on_behalf", "op-30", "paper")
    [audit] = uow.audited
    assert (audit["action"], audit["actor"]) == ("submission.received", "op-30")
    assert audit["details"] | {"changes": None} == {
        "province": "30", "unit": "CA", "period": "2019-06", "version": 1, "changes": None,
        "channel": "on_behalf", "entered_by": "op-30", "source": "paper",
    }  # fmt: skip
    [event] = uow.events_of(SUBMISSION_RECEIVED)
    assert (event.channel, event.entered_by, event.submitted_by) == ("on_behalf", "op-30", "op-30")


async def test_the_unit_amends_what_the_office_entered_and_the_history_tells_both(uow, as_reporter, now):
    first = await submissions.submit(uow, principal=OFFICE, body=report(), now=now)
    body = AmendmentIn(values=FIGURES | {"t1_sessions": 5}, base_version=1)
    await submissions.amend(uow, principal=as_reporter(), submission_id=first.id, body=body, now=now)
    body = AmendmentIn(values=FIGURES | {"t1_sessions": 6}, base_version=2, source="email")
    await submissions.amend(uow, principal=OFFICE, submission_id=first.id, body=body, now=now + timedelta(hours=1))
    got = await submissions.get(uow, principal=as_reporter(), submission_id=first.id)
    assert [(h.version, h.channel, h.entered_by, h.source) for h in got.history] == [
        (1, "on_behalf", "op-30", None),
        (2, "api", None, None),
        (3, "on_behalf", "op-30", "email"),
    ]
    assert [(e.version, e.channel) for e in uow.events_of(SUBMISSION_AMENDED)] == [(2, "api"), (3, "on_behalf")]


@pytest.mark.parametrize(
    ("principal", "refusal"),
    [
        (Principal(subject="op-01", role=Role.PROVINCE_OPERATOR, province="01"), errors.NotYourProvincesUnit),
        (Principal(subject="national", role=Role.NATIONAL_OPERATOR), errors.NotAReporter),
    ],
)
async def test_only_the_units_own_province_amends_on_its_behalf(uow, now, principal, refusal):
    first = await submissions.submit(uow, principal=OFFICE, body=report(), now=now)
    with pytest.raises(refusal):
        body = AmendmentIn(values=FIGURES)
        await submissions.amend(uow, principal=principal, submission_id=first.id, body=body, now=now)
    assert uow.submissions.stored[first.id].version == 1 and len(uow.published) == 1


async def test_the_office_meets_the_units_rules_a_closed_period_without_an_exception(uow, now):
    late, closed = now + timedelta(days=10), now + timedelta(days=30)  # 2019-06 is due the 16th, closes the 25th
    receipt = await submissions.submit(uow, principal=OFFICE, body=report(), now=late)
    assert receipt.version == 1
    with pytest.raises(errors.PeriodClosed):
        await submissions.submit(uow, principal=OFFICE, body=report(unit="BTG"), now=closed)
    where = {"principal": OFFICE, "province": "30", "plan_id": None, "period": "2019-06", "now": closed}
    await periods.grant_exception(uow, **where, unit="BTG", reason="Báo cáo giấy đến muộn")
    after = await submissions.submit(uow, principal=OFFICE, body=report(unit="BTG"), now=closed)
    got = await submissions.get(uow, principal=OFFICE, submission_id=after.id)
    assert (got.after_close, got.channel) == (True, "on_behalf")


async def test_an_admin_names_the_province_or_the_plans_only_one(uow, now):
    admin = Principal(subject="admin", role=Role.ADMIN)
    receipt = await submissions.submit(uow, principal=admin, body=report(), now=now)
    got = await submissions.get(uow, principal=admin, submission_id=receipt.id)
    assert (got.province, got.channel, got.entered_by) == ("30", "on_behalf", "admin")
