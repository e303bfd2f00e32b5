"""The report's workflow as use cases on in-memory repositories: who may take each step, from which status,
what is stored, published and audited; and the way back to draft when a unit reports after the approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baocao_shared.events.reports import REPORT_APPROVED, REPORT_PUBLISHED, REPORT_REOPENED, REPORT_REVERTED
from consolidation.domain.errors import NotTheProvincesOperator, StepNotAllowed
from consolidation.handlers import projection, reports, workflow
from services.consolidation.tests.unit.fakes import FakePress
from services.consolidation.tests.unit.world import JUNE, NOW, PERIOD, PLAN, Who, submission, world

KEY = ("30", PLAN.id, PERIOD)
SUBJECT = f"report:30.{PLAN.id}.{PERIOD}"


async def step(uow, action: str, principal=Who.OPERATOR, *, at=NOW):
    if action == "reopen":
        return await workflow.reopen(uow, principal=principal, address=JUNE, reason="bổ sung", now=at)
    if action == "publish":
        return await workflow.publish(uow, principal=principal, address=JUNE, now=at, press=FakePress())
    return await workflow.approve(uow, principal=principal, address=JUNE, now=at)


async def at_status(status: str):
    """The world with the June report brought to `status` by its operator (and an admin to reopen)."""
    uow = await world()
    path = {"draft": [], "approved": ["approve"], "published": ["approve", "publish"]}[status]
    for n, action in enumerate(path):
        await step(uow, action, at=NOW + timedelta(minutes=n))
    uow.published.clear()
    uow.audited.clear()
    return uow


async def test_the_operator_approves_the_draft_recording_the_revision_it_saw():
    uow = await at_status("draft")
    report = await step(uow, "approve")
    assert report.status == "approved" and report.approved_by == "op-30" and report.revision == 2
    state = uow.reports.rows[KEY]
    assert (state.status, state.revision, state.approved_at) == ("approved", 2, NOW)
    [event] = uow.events_of(REPORT_APPROVED)
    assert (event.status, event.revision, event.by, event.at) == ("approved", 2, "op-30", NOW)
    assert uow.audited == [
        {"at": NOW, "actor": "op-30", "action": "report.approved", "subject": SUBJECT, "details": {"revision": 2}}
    ]


async def test_publishing_stores_and_sends_the_snapshot_which_later_submissions_do_not_change():
    uow = await at_status("approved")
    published = await step(uow, "publish")
    assert published.status == "published" and published.published_by == "op-30" and published.status_note is None
    [event] = uow.events_of(REPORT_PUBLISHED)
    assert event == published and event.totals["t1_sessions"] == 3
    assert uow.reports.rows[KEY].content == published.model_dump(mode="json")
    assert [a["action"] for a in uow.audited] == ["report.published"]
    await projection.submission_recorded(uow, submission("BTG", 1, {"t1_sessions": 40}))
    now = await reports.current(uow, address=JUNE, now=NOW)
    assert now == published, "the published report is the snapshot that went up"


async def test_an_admin_reopens_a_published_period_with_a_reason():
    uow = await at_status("published")
    reopened = await step(uow, "reopen", Who.ADMIN, at=NOW + timedelta(hours=1))
    assert reopened.status == "draft" and reopened.status_note == "Mở lại: bổ sung"
    state = uow.reports.rows[KEY]
    assert state.content is None and state.published_at is None and state.approved_by is None
    [event] = uow.events_of(REPORT_REOPENED)
    assert (event.status, event.by, event.reason) == ("draft", "admin", "Mở lại: bổ sung")
    assert uow.audited[0]["details"] == {"revision": 2, "reason": "bổ sung"}


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("approve", "approved"),
        ("approve", "published"),
        ("publish", "draft"),
        ("publish", "published"),
        ("reopen", "draft"),
        ("reopen", "approved"),
    ],
)
async def test_a_step_the_status_does_not_allow_is_refused_and_changes_nothing(action, status):
    uow = await at_status(status)
    before = dict(uow.reports.rows)
    principal = Who.ADMIN if action == "reopen" else Who.OPERATOR
    with pytest.raises(StepNotAllowed) as refused:
        await step(uow, action, principal, at=NOW + timedelta(hours=1))
    assert (refused.value.action, refused.value.status) == (action, status)
    assert refused.value.details == {"status": status}  # the API's answer, as before
    assert uow.reports.rows == before and not uow.published and not uow.audited


@pytest.mark.parametrize("principal", [Who.NEIGHBOURS_OPERATOR, Who.NATIONAL, Who.REPORTER], ids=lambda p: p.subject)
@pytest.mark.parametrize("action", ["approve", "publish"])
async def test_only_the_provinces_operators_and_admins_approve_and_publish(principal, action):
    uow = await at_status("draft" if action == "approve" else "approved")
    with pytest.raises(NotTheProvincesOperator) as refused:
        await step(uow, action, principal)
    assert refused.value.message == "Only the province's own operators approve and publish its report."
    assert not uow.published and not uow.audited


async def test_an_admin_may_approve_and_publish():
    uow = await at_status("draft")
    await step(uow, "approve", Who.ADMIN)
    assert (await step(uow, "publish", Who.ADMIN, at=NOW + timedelta(minutes=1))).published_by == "admin"


async def test_a_unit_reporting_after_the_approval_sends_the_report_back_to_draft_after_it():
    uow = await at_status("approved")
    late = submission("BTG", 1, {"t1_sessions": 5}, at=NOW - timedelta(days=3))  # stamped before the approval
    await projection.submission_recorded(uow, late)
    state = uow.reports.rows[KEY]
    assert (state.status, state.revision, state.approved_by) == ("draft", 3, None)
    assert state.status_reason == "Trở lại dự thảo: đơn vị BTG gửi báo cáo sau khi đã duyệt."
    [event] = uow.events_of(REPORT_REVERTED)
    assert (event.status, event.revision, event.by) == ("draft", 3, "system")
    assert event.at == NOW + timedelta(microseconds=1), "the revert comes after the approval it undoes"
    report = await reports.current(uow, address=JUNE, now=NOW)
    assert report.status_note == state.status_reason and report.totals["t1_sessions"] == 8


async def test_a_version_the_approval_already_saw_does_not_revert_it():
    uow = await at_status("approved")
    await projection.submission_recorded(uow, submission("CA", 1, {"t1_sessions": 3}))  # a replay
    await workflow.content_changed(uow, "30", PLAN.id, PERIOD, unit="CA", at=NOW)  # and its echo
    assert uow.reports.rows[KEY].status == "approved" and not uow.published


@pytest.mark.parametrize("status", ["draft", "published"])
async def test_only_an_approved_report_reacts_to_a_new_version(status):
    uow = await at_status(status)
    await projection.submission_recorded(uow, submission("CA", 2, {"t1_sessions": 9}))
    assert uow.reports.rows.get(KEY) is None or uow.reports.rows[KEY].status == status
    assert not uow.events_of(REPORT_REVERTED)


async def test_a_batch_of_submissions_reverts_an_approval_as_one_at_a_time_does():
    batch = [submission("BTG", 1, {"t1_sessions": 5}), submission("CA", 2, {"t1_sessions": 7})]
    one, many = await at_status("approved"), await at_status("approved")
    for s in batch:
        await projection.submission_recorded(one, s)
    await projection.submissions_recorded(many, batch)
    assert many.reports.rows == one.reports.rows and many.unit_reports.rows == one.unit_reports.rows
    assert [e.reason for e in many.events_of(REPORT_REVERTED)] == [e.reason for e in one.events_of(REPORT_REVERTED)]
    assert "BTG" in many.reports.rows[KEY].status_reason


async def test_replayed_workflow_events_restore_the_state_and_never_move_it_backwards():
    live = await at_status("draft")
    await step(live, "approve")
    await step(live, "publish", at=NOW + timedelta(minutes=5))
    [approval], [publication] = live.events_of(REPORT_APPROVED), live.events_of(REPORT_PUBLISHED)
    rebuilt = await world()
    await projection.report_status_changed(rebuilt, approval)
    await projection.report_published(rebuilt, publication)
    assert rebuilt.reports.rows[KEY] == live.reports.rows[KEY]
    await projection.report_status_changed(rebuilt, approval)  # read back once more, after the publish
    assert rebuilt.reports.rows[KEY].status == "published"
