"""The national office's answer to a published report, as use cases on in-memory repositories: accept (final)
or return to the province with a reason; who may; from which status; what is stored, published and audited;
publishing again under a new number that replaces the earlier document; and the same events replayed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_APPROVED,
    REPORT_DOCUMENT_ISSUED,
    REPORT_PUBLISHED,
    REPORT_RETURNED,
)
from consolidation.adapters.report_text import replaces_line, report_text
from consolidation.domain.errors import (
    NotTheNationalOffice,
    ReportAlreadyAccepted,
    ReturnReasonInvalid,
    StepNotAllowed,
)
from consolidation.handlers import documents, projection, reports, workflow
from services.consolidation.tests.unit.test_workflow import KEY, SUBJECT, at_status, step
from services.consolidation.tests.unit.world import JUNE, NOW, Who, submission, world

LATER = NOW + timedelta(hours=2)
REASON = "Thiếu số liệu của Sở BTG"


async def answer(uow, action: str, principal=Who.NATIONAL, *, at=LATER, reason=REASON):
    if action == "return":
        return await workflow.return_to_province(uow, principal=principal, address=JUNE, reason=reason, now=at)
    if action == "accept":
        return await workflow.accept(uow, principal=principal, address=JUNE, now=at)
    return await step(uow, action, principal, at=at)


async def test_the_national_office_accepts_a_published_report_which_keeps_its_snapshot():
    uow = await at_status("published")
    sent = uow.reports.rows[KEY].content
    accepted = await answer(uow, "accept")
    assert (accepted.status, accepted.accepted_by, accepted.accepted_at) == ("accepted", "vpttt", LATER)
    assert accepted.number == "1/BC-BCĐNQ" and accepted.totals["t1_sessions"] == 3
    state = uow.reports.rows[KEY]
    assert state.status == "accepted" and state.content == sent, "the snapshot that went up does not change"
    [event] = uow.events_of(REPORT_ACCEPTED)
    assert (event.status, event.by, event.at, event.reason) == ("accepted", "vpttt", LATER, None)
    assert uow.audited == [
        {"at": LATER, "actor": "vpttt", "action": "report.accepted", "subject": SUBJECT,
         "details": {"revision": 2, "number": "1/BC-BCĐNQ"}},
    ]  # fmt: skip
    # A unit's later report changes nothing of it.
    await projection.submission_recorded(uow, submission("BTG", 1, {"t1_sessions": 40}))
    assert await reports.current(uow, address=JUNE, now=LATER) == accepted


async def test_the_national_office_returns_a_published_report_to_the_province_as_a_draft_saying_why():
    uow = await at_status("published")
    returned = await answer(uow, "return", reason="  Thiếu số liệu\n của Sở BTG ")
    assert returned.status == "draft" and returned.number is None and returned.documents == []
    assert returned.status_note == f"Trả lại: {REASON}"
    assert returned.returned is not None
    assert (returned.returned.reason, returned.returned.by, returned.returned.at) == (REASON, "vpttt", LATER)
    state = uow.reports.rows[KEY]
    assert state.content is None and state.published_at is None and state.approved_by is None
    [event] = uow.events_of(REPORT_RETURNED)
    assert (event.status, event.by, event.reason) == ("draft", "vpttt", REASON)
    assert [a["action"] for a in uow.audited] == ["report.returned"]
    assert uow.audited[0]["details"] == {"revision": 2, "number": "1/BC-BCĐNQ", "reason": REASON}


async def test_published_again_after_a_return_it_takes_a_new_number_and_replaces_the_earlier_document():
    uow = await at_status("published")
    first = await reports.current(uow, address=JUNE, now=NOW)
    await answer(uow, "return")
    await projection.submission_recorded(uow, submission("BTG", 1, {"t1_sessions": 4}))  # the unit amends
    approved = await step(uow, "approve", at=LATER + timedelta(minutes=1))
    assert approved.returned is None and approved.status_note is None, "approving ends the return"
    again = await step(uow, "publish", at=LATER + timedelta(minutes=2))
    assert again.number == "2/BC-BCĐNQ" and again.totals["t1_sessions"] == 7
    assert (again.replaces, again.replaces_issued_on) == ("1/BC-BCĐNQ", date(2019, 6, 18))
    assert [e.replaces for e in uow.events_of(REPORT_DOCUMENT_ISSUED)] == ["1/BC-BCĐNQ"] * 2
    assert uow.events_of(REPORT_PUBLISHED)[-1].replaces == "1/BC-BCĐNQ"
    assert uow.audited[-1]["details"]["replaces"] == "1/BC-BCĐNQ"
    # Both documents stay in the register; the page lists the earlier ones.
    for ref in [*first.documents, *again.documents]:
        assert (await documents.identify(uow, sha256=ref.sha256)).sha256 == ref.sha256
    assert {d.number for d in await documents.earlier(uow, again)} == {"1/BC-BCĐNQ"}
    # The document says what it replaces, under its title.
    line = "(Báo cáo này thay thế Báo cáo số 1/BC-BCĐNQ ngày 18 tháng 6 năm 2019)"
    assert replaces_line(again) == line == report_text(again, issued_on=date(2019, 6, 18)).replaces
    assert report_text(first, issued_on=date(2019, 6, 18)).replaces == ""


@pytest.mark.parametrize("action", ["reopen", "return", "accept", "approve", "publish"])
async def test_an_accepted_report_is_final(action):
    uow = await at_status("published")
    await answer(uow, "accept")
    uow.published.clear()
    uow.audited.clear()
    before = dict(uow.reports.rows)
    principal = Who.OPERATOR if action in ("approve", "publish") else Who.ADMIN
    with pytest.raises(ReportAlreadyAccepted) as refused:
        await answer(uow, action, principal, at=LATER + timedelta(hours=1))
    assert isinstance(refused.value, StepNotAllowed) and refused.value.details == {"status": "accepted"}
    assert uow.reports.rows == before and not uow.published and not uow.audited


@pytest.mark.parametrize("status", ["draft", "approved"])
@pytest.mark.parametrize("action", ["accept", "return"])
async def test_only_a_published_report_is_accepted_or_returned(action, status):
    uow = await at_status(status)
    with pytest.raises(StepNotAllowed) as refused:
        await answer(uow, action)
    assert (refused.value.action, refused.value.status) == (action, status)
    assert not uow.published and not uow.audited


@pytest.mark.parametrize("principal", [Who.OPERATOR, Who.NEIGHBOURS_OPERATOR, Who.REPORTER], ids=lambda p: p.subject)
@pytest.mark.parametrize("action", ["accept", "return"])
async def test_only_the_national_office_and_admins_accept_or_return(principal, action):
    uow = await at_status("published")
    with pytest.raises(NotTheNationalOffice) as refused:
        await answer(uow, action, principal)
    assert refused.value.message == "Only the national office accepts or returns a province's published report."
    assert not uow.published and not uow.audited
    assert (await answer(uow, action, Who.ADMIN)).status in ("accepted", "draft")


@pytest.mark.parametrize("reason", ["", "  ab ", "x" * 501])
async def test_a_return_needs_a_reason(reason):
    uow = await at_status("published")
    with pytest.raises(ReturnReasonInvalid):
        await answer(uow, "return", reason=reason)
    assert uow.reports.rows[KEY].status == "published" and not uow.published


async def test_the_page_offers_the_national_office_its_answer_on_a_published_report_only():
    uow = await at_status("published")
    report = await reports.current(uow, address=JUNE, now=NOW)
    assert reports.open_steps(Who.NATIONAL, report) == {"accept", "return"}
    assert reports.open_steps(Who.OPERATOR, report) == set()
    assert reports.open_steps(Who.ADMIN, report) == {"accept", "return"}
    accepted = await answer(uow, "accept")
    assert reports.open_steps(Who.NATIONAL, accepted) == reports.open_steps(Who.ADMIN, accepted) == set()


async def test_replayed_answers_restore_the_state():
    live = await at_status("draft")
    await step(live, "approve")
    await step(live, "publish", at=NOW + timedelta(minutes=1))
    await answer(live, "return")
    await step(live, "approve", at=LATER + timedelta(minutes=1))
    await step(live, "publish", at=LATER + timedelta(minutes=2))
    await answer(live, "accept", at=LATER + timedelta(minutes=3))
    rebuilt = await world()
    replay = {
        REPORT_APPROVED.type: projection.report_status_changed, REPORT_RETURNED.type: projection.report_returned,
        REPORT_ACCEPTED.type: projection.report_accepted, REPORT_PUBLISHED.type: projection.report_published,
        REPORT_DOCUMENT_ISSUED.type: workflow.apply_document,
    }  # fmt: skip
    for event in live.published:
        await replay[event.spec.type](rebuilt, event.data)
    assert rebuilt.reports.rows[KEY] == live.reports.rows[KEY]
    assert rebuilt.documents.rows == live.documents.rows
    want = await reports.current(live, address=JUNE, now=LATER)
    assert await reports.current(rebuilt, address=JUNE, now=LATER) == want
    assert want.status == "accepted" and want.replaces == "1/BC-BCĐNQ"
