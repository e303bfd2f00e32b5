"""The submission use cases' rules on the in-memory unit of work: who may submit, amend and read, each named
refusal, and what a change leaves behind (the stored report, its history, its audit row and its event)."""

import uuid
from datetime import timedelta

import pytest

from baocao_shared.events.submissions import SUBMISSION_AMENDED, SUBMISSION_RECEIVED
from baocao_shared.principal import Principal, Role
from intake.domain import errors
from intake.domain.models import AmendmentIn, ImportIn, SubmissionIn
from intake.handlers import periods, submissions
from intake.handlers.idempotency import CREATED

PLAN_ID = "hd-467-2019"
FIGURES = {
    code: 1
    for code in (
        "t1_sessions t1_participants t2_campaigns t2_publications t3_updates_sent "
        "t4_domestic_delegations t4_foreign_delegations t5_articles t5_rebuttals"
    ).split()
}


def report(unit: str = "CA", period: str = "2019-06", plan_id: str = PLAN_ID, **values) -> SubmissionIn:
    return SubmissionIn(
        plan_id=plan_id, unit=unit, period=period, values=FIGURES | values, narratives={"T1": " Đã làm "}
    )


async def submitted(uow, as_reporter, now, **kw):
    return await submissions.submit(uow, principal=as_reporter(), body=report(**kw), now=now)


async def test_a_first_report_is_stored_with_its_history_audit_row_and_event(uow, as_reporter, now):
    receipt = await submitted(uow, as_reporter, now)
    assert (receipt.version, receipt.status, receipt.received_at) == (1, "received", now)
    stored = uow.submissions.stored[receipt.id]
    assert (stored.province, stored.unit, stored.period, stored.narratives) == ("30", "CA", "2019-06", {"T1": "Đã làm"})
    [version] = uow.submissions.versions[receipt.id]
    assert version.changes == {"figures": {}, "narratives": [], "first": True}
    [audit] = uow.audited
    assert (audit["action"], audit["actor"], audit["subject"]) == (
        "submission.received",
        "30-CA",
        f"submission:{receipt.id}",
    )
    [event] = uow.events_of(SUBMISSION_RECEIVED)
    assert (event.submission_id, event.version, event.narratives) == (receipt.id, 1, {"T1": "Đã làm"})
    assert uow.published[0].province == "30"


CA = Principal(subject="30-CA", role=Role.REPORTER, province="30", unit="CA")


@pytest.mark.parametrize(
    ("principal", "body", "refusal"),
    [
        (Principal(subject="national", role=Role.NATIONAL_OPERATOR), report(), errors.NotAReporter),
        (
            Principal(subject="op-01", role=Role.PROVINCE_OPERATOR, province="01"),
            report(),
            errors.PlanOfAnotherProvince,
        ),
        (
            Principal(subject="op-01", role=Role.PROVINCE_OPERATOR, province="01"),
            report().model_copy(update={"province": "30"}),
            errors.NotYourProvincesUnit,
        ),
        (CA, report().model_copy(update={"source": "paper"}), errors.SourceOnlyOnBehalf),
        (CA, report(unit="BTG"), errors.NotYourUnit),
        (
            Principal(subject="01-CA", role=Role.REPORTER, province="01", unit="CA"),
            report(),
            errors.PlanOfAnotherProvince,
        ),
        (CA, report(plan_id="x"), errors.UnknownPlan),
        (CA, report(period="2019-05"), errors.ReportInvalid),  # before the plan's first period
        (CA, report(t1_sessions=-1), errors.ReportInvalid),
    ],
)
async def test_a_report_is_refused_by_name_and_nothing_is_written(uow, now, principal, body, refusal):
    with pytest.raises(refusal):
        await submissions.submit(uow, principal=principal, body=body, now=now)
    assert uow.submissions.stored == {} and uow.published == [] and uow.audited == []


async def test_a_unit_outside_the_plan_is_told_which_field(uow, hai_duong, as_reporter, now):
    plan = hai_duong.plans[0]
    uow.catalog.add(plan.model_copy(update={"units": [u for u in plan.units if u != "CA"]}))
    with pytest.raises(errors.UnitNotInPlan) as refused:
        await submitted(uow, as_reporter, now)
    assert refused.value.problems[0]["loc"] == ["body", "unit"] and refused.value.plan_number == plan.number


async def test_a_second_report_for_the_period_names_the_first(uow, as_reporter, now):
    first = await submitted(uow, as_reporter, now)
    with pytest.raises(errors.AlreadySubmitted) as refused:
        await submitted(uow, as_reporter, now)
    assert refused.value.submission_id == first.id and refused.value.details == {"submission_id": str(first.id)}


async def test_a_locked_period_refuses_reports_and_amendments(uow, as_reporter, now):
    first = await submitted(uow, as_reporter, now)
    uow.locks.locked.add(("30", PLAN_ID, "2019-06"))
    with pytest.raises(errors.PeriodLocked) as refused:
        await submissions.submit(uow, principal=as_reporter("BTG"), body=report(unit="BTG"), now=now)
    assert (refused.value.province, refused.value.plan_id, refused.value.period) == ("30", PLAN_ID, "2019-06")
    with pytest.raises(errors.PeriodLocked):
        await submissions.amend(
            uow, principal=as_reporter(), submission_id=first.id, body=AmendmentIn(values=FIGURES), now=now
        )


async def test_an_amendment_is_the_next_version_with_what_it_changed(uow, as_reporter, now):
    first = await submitted(uow, as_reporter, now)
    later = now + timedelta(hours=2)
    body = AmendmentIn(values=FIGURES | {"t1_sessions": 4}, narratives={"T1": "Đã làm thêm"}, base_version=1)
    receipt = await submissions.amend(uow, principal=as_reporter(), submission_id=first.id, body=body, now=later)
    assert (receipt.version, receipt.status) == (2, "amended")
    stored = uow.submissions.stored[first.id]
    assert (stored.version, stored.first_received_at, stored.received_at) == (2, now, later)
    changes = uow.submissions.versions[first.id][-1].changes
    assert changes == {"figures": {"t1_sessions": {"from": 1, "to": 4}}, "narratives": ["T1"]}
    [event] = uow.events_of(SUBMISSION_AMENDED)
    assert (event.version, event.first_received_at, event.received_at) == (2, now, later)
    assert uow.audited[-1]["action"] == "submission.amended"


async def test_an_amendment_is_refused_for_another_unit_a_stale_version_or_no_report(uow, as_reporter, now):
    first = await submitted(uow, as_reporter, now)
    body = AmendmentIn(values=FIGURES, base_version=1)
    with pytest.raises(errors.NotYourReport):
        await submissions.amend(uow, principal=as_reporter("BTG"), submission_id=first.id, body=body, now=now)
    await submissions.amend(uow, principal=as_reporter(), submission_id=first.id, body=body, now=now)
    with pytest.raises(errors.StaleVersion) as refused:
        await submissions.amend(uow, principal=as_reporter(), submission_id=first.id, body=body, now=now)
    assert (refused.value.current_version, refused.value.base_version) == (2, 1)
    with pytest.raises(errors.SubmissionNotFound):
        await submissions.amend(uow, principal=as_reporter(), submission_id=uuid.uuid4(), body=body, now=now)


async def test_a_key_sent_again_gets_the_first_receipt_and_another_body_is_refused(uow, as_reporter, now):
    principal = as_reporter()
    first = await submissions.submit_once(uow, principal=principal, body=report(), now=now, key="k1")
    assert first.replay is None and first.receipt.version == 1
    again = await submissions.submit_once(uow, principal=principal, body=report(), now=now, key="k1")
    assert again.receipt == first.receipt and again.replay.status_code == CREATED
    assert again.replay.body == first.receipt.model_dump(mode="json")
    assert len(uow.submissions.stored) == 1 and len(uow.published) == 1
    with pytest.raises(errors.IdempotencyKeyReused) as refused:
        await submissions.submit_once(uow, principal=principal, body=report(t1_sessions=9), now=now, key="k1")
    assert refused.value.key == "k1"


async def test_an_amendment_with_a_key_is_made_once(uow, as_reporter, now):
    first = await submitted(uow, as_reporter, now)
    body = AmendmentIn(values=FIGURES | {"t1_sessions": 2}, base_version=1)
    for _ in range(2):
        answer = await submissions.amend_once(
            uow, principal=as_reporter(), submission_id=first.id, body=body, now=now, key="form-1"
        )
        assert answer.receipt.version == 2
    assert uow.submissions.stored[first.id].version == 2 and len(uow.events_of(SUBMISSION_AMENDED)) == 1


async def test_without_a_key_every_request_runs(uow, as_reporter, now):
    await submissions.submit_once(uow, principal=as_reporter(), body=report(), now=now, key=None)
    with pytest.raises(errors.AlreadySubmitted):
        await submissions.submit_once(uow, principal=as_reporter(), body=report(), now=now, key=None)


async def test_who_reads_which_reports(uow, as_reporter, now):
    ca = await submitted(uow, as_reporter, now)
    await submissions.submit(uow, principal=as_reporter("BTG"), body=report(unit="BTG"), now=now)
    operator = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
    national = Principal(subject="national", role=Role.NATIONAL_OPERATOR)

    got = await submissions.get(uow, principal=operator, submission_id=ca.id)
    assert (got.unit, got.locked, [h.version for h in got.history]) == ("CA", False, [1])
    with pytest.raises(errors.ReportNotReadable):
        await submissions.get(uow, principal=as_reporter("BTG"), submission_id=ca.id)
    with pytest.raises(errors.SubmissionNotFound):
        await submissions.get(uow, principal=operator, submission_id=uuid.uuid4())

    mine = await submissions.search(uow, principal=as_reporter("BTG"), limit=10)
    assert [s.unit for s in mine] == ["BTG"], "a reporter's search is narrowed to its unit"
    assert [s.unit for s in await submissions.search(uow, principal=national, limit=10)] == ["BTG", "CA"]
    with pytest.raises(errors.ReportNotReadable):
        await submissions.search(uow, principal=as_reporter("BTG"), unit="CA", limit=10)
    with pytest.raises(errors.ReportNotReadable):
        await submissions.search(uow, principal=operator, province="01", limit=10)


async def test_a_report_reads_with_the_flags_of_its_latest_version(uow, as_reporter, now):
    ca = await submitted(uow, as_reporter, now)
    office = Principal(subject="op-30", role=Role.PROVINCE_OPERATOR, province="30")
    where = {"principal": office, "province": "30", "now": now}
    await periods.set_tracking(uow, **where, plan_id=PLAN_ID, tracking_from="2019-07")  # 2019-06 is now history
    body = ImportIn(unit="CA", values=FIGURES)
    imported = await periods.import_history(uow, **where, plan_id=None, period="2019-06", body=body)
    assert (imported.id, imported.version) == (ca.id, 2)

    got = await submissions.get(uow, principal=as_reporter(), submission_id=ca.id)
    assert (got.version, got.imported, got.after_close) == (2, True, False)
    assert [(h.version, h.imported, h.after_close) for h in got.history] == [(1, False, False), (2, True, False)]
    [listed] = await submissions.search(uow, principal=as_reporter(), limit=10)
    assert (listed.version, listed.imported) == (2, True)
    [received, amended] = [e for spec in (SUBMISSION_RECEIVED, SUBMISSION_AMENDED) for e in uow.events_of(spec)]
    assert (received.imported, amended.imported) == (False, True)
    assert not uow.submissions.stored[ca.id].imported, "as in the database, the latest row has no such column"
