"""The report's workflow: approve, publish, reopen, the national office's answer (accept, or return to the
province), and the way back to draft when a unit's report changes after the approval; and the same events
applied again from the topics on a rebuild.

A live step stores exactly what its event says, the way a rebuild applies that event (`apply_status`,
`apply_published`), so the live state and a rebuilt one cannot differ. The caller owns the transaction;
every step by a person is an audit row and an event on baocao.reports through the outbox, committed with
the state change.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from baocao_shared.events.registry import EventSpec
from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_APPROVED,
    REPORT_DOCUMENT_ISSUED,
    REPORT_PUBLISHED,
    REPORT_REOPENED,
    REPORT_RETURNED,
    REPORT_REVERTED,
    ConsolidatedReportV1,
    DocumentIssuedV1,
    ReportStatusV1,
)
from baocao_shared.principal import Principal
from consolidation.adapters.documents import StoredDocument
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.documents import DocumentPress
from consolidation.domain.errors import NotTheNationalOffice, NotTheProvincesOperator
from consolidation.domain.report import ReportAddress
from consolidation.domain.workflow import next_status, return_reason, returned_note
from consolidation.handlers.reports import current, issue_date, local_date, plan_and_period, situated

UNDONE = {"content": None, "published_at": None, "published_by": None}  # what a step back to draft clears
NOT_RETURNED = {"returned_at": None, "returned_by": None, "returned_reason": None}  # every other step clears it


def check_operator(principal: Principal, *, province: str) -> None:
    """The province's own operators, and admins, approve and publish its report."""
    if not principal.may_operate_province(province):
        raise NotTheProvincesOperator(province=province)


def check_national(principal: Principal, *, action: str) -> None:
    """The national office (and admins, who may take every step) accepts or returns a published report."""
    if not principal.is_national:
        raise NotTheNationalOffice(action=action)


async def approve(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime
) -> ConsolidatedReportV1:
    """The province's operator approves the draft; the approval records the revision it saw."""
    check_operator(principal, province=address.province)
    report = await current(uow, address=address, now=now)
    at = await _after_the_last_step(uow, report, now)
    change = _change(report, next_status("approve", report.status), at=at, by=principal.subject)
    await take_step(uow, REPORT_APPROVED, change)
    await _audit(uow, "report.approved", report, by=change.by, at=at, details={"revision": report.revision})
    return await current(uow, address=replace(address, plan_id=report.plan_id), now=now)


async def publish(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime, press: DocumentPress
) -> ConsolidatedReportV1:
    """The province's operator sends the approved report up. It takes the next number of the province's
    register, its DOCX and signed PDF are rendered once and stored, and the snapshot is published; the
    period is locked (intake refuses submissions for it). A press that cannot sign refuses, and nothing of
    it is kept: the report stays approved and the number stays free."""
    check_operator(principal, province=address.province)
    plan, _ = await plan_and_period(uow, address)
    revision = await uow.unit_reports.revision(address.province, plan.id, address.period)
    # One publisher at a time; only an approved report (it has a row) can be published.
    await uow.reports.lock(address.province, plan.id, address.period, revision=revision, create=False)
    found = await situated(uow, address=replace(address, plan_id=plan.id), now=now)
    report = found.report
    status = next_status("publish", report.status)
    now = await _after_the_last_step(uow, report, now)
    issued_on = await issue_date(uow, report, now=now)
    number = await uow.register.take_next(report.province, issued_on.year)
    earlier = await uow.documents.of_report(report.province, report.plan_id, report.period, "pdf")
    published = report.model_copy(
        update={
            "status": status, "status_note": None, "published_at": now, "published_by": principal.subject,
            "number": f"{number}/{report.number_code}", "returned": None,
            # Published again (after a return or a reopen): the new document replaces the one that went up before.
            "replaces": earlier.number if earlier else None,
            "replaces_issued_on": await local_date(uow, report.province, earlier.published_at) if earlier else None,
        }
    )  # fmt: skip
    history = found.standing.state == "history"
    frozen = await asyncio.to_thread(press.freeze, published, issued_on=issued_on, history=history)  # CPU
    signed_by = next((d.signed_by for d in frozen if d.signed_by), None)
    published = published.model_copy(update={"documents": [d.ref() for d in frozen], "signed_by": signed_by})
    for document in frozen:
        issued = DocumentIssuedV1(
            province=published.province, plan_id=published.plan_id, period=published.period,
            number=published.number, kind=document.kind, media_type=document.media_type,
            filename=document.filename, sha256=document.sha256, size=len(document.body),
            signed_by=document.signed_by, published_at=now, replaces=published.replaces,
            content_base64=base64.b64encode(document.body).decode("ascii"),
        )  # fmt: skip
        await apply_document(uow, issued)
        await uow.publish(REPORT_DOCUMENT_ISSUED, issued, province=published.province, at=now)
    await apply_published(uow, published)
    await uow.publish(REPORT_PUBLISHED, published, province=published.province, at=now)
    details = {"revision": report.revision, "number": published.number, "documents": [d.sha256 for d in frozen]}
    if published.replaces:
        details["replaces"] = published.replaces
    await _audit(uow, "report.published", published, by=principal.subject, at=now, details=details)
    return published


async def apply_document(uow: ConsolidationUnitOfWork, issued: DocumentIssuedV1) -> None:
    """Keep a frozen document as its event carries it (live, or replayed on a rebuild)."""
    await uow.documents.add(
        StoredDocument(
            sha256=issued.sha256, province=issued.province, plan_id=issued.plan_id, period=issued.period,
            kind=issued.kind, number=issued.number, media_type=issued.media_type, filename=issued.filename,
            size=issued.size, signed_by=issued.signed_by, published_at=issued.published_at,
            body=base64.b64decode(issued.content_base64),
        )
    )  # fmt: skip


async def reopen(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, reason: str, now: datetime
) -> ConsolidatedReportV1:
    """Admin only (the route requires it): a published period goes back to draft, and intake accepts
    amendments again."""
    report = await current(uow, address=address, now=now)
    note = f"Mở lại: {reason}"  # the event carries the same note, so a rebuild shows the same words
    at = await _after_the_last_step(uow, report, now)
    change = _change(report, next_status("reopen", report.status), at=at, by=principal.subject, reason=note)
    await take_step(uow, REPORT_REOPENED, change)
    details = {"revision": report.revision, "reason": reason}
    await _audit(uow, "report.reopened", report, by=change.by, at=at, details=details)
    return await current(uow, address=replace(address, plan_id=report.plan_id), now=now)


async def accept(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, now: datetime
) -> ConsolidatedReportV1:
    """The national office accepts a province's published report. Final: it is never reopened nor returned,
    and its period stays locked."""
    check_national(principal, action="accept")
    report = await _locked_current(uow, address, now)
    at = await _after_the_last_step(uow, report, now)
    change = _change(report, next_status("accept", report.status), at=at, by=principal.subject)
    await apply_accepted(uow, change)
    await uow.publish(REPORT_ACCEPTED, change, province=change.province, at=at)
    details = {"revision": report.revision, "number": report.number}
    await _audit(uow, "report.accepted", report, by=change.by, at=at, details=details)
    return await current(uow, address=replace(address, plan_id=report.plan_id), now=now)


async def return_to_province(
    uow: ConsolidationUnitOfWork, *, principal: Principal, address: ReportAddress, reason: str, now: datetime
) -> ConsolidatedReportV1:
    """The national office sends a published report back to the province as a draft, saying why: the province's
    units may amend again, its office edits, approves and publishes again (a new number, replacing this one)."""
    check_national(principal, action="return")
    reason = return_reason(reason)
    report = await _locked_current(uow, address, now)
    at = await _after_the_last_step(uow, report, now)
    change = _change(report, next_status("return", report.status), at=at, by=principal.subject, reason=reason)
    await apply_returned(uow, change)
    await uow.publish(REPORT_RETURNED, change, province=change.province, at=at)
    details = {"revision": report.revision, "number": report.number, "reason": reason}
    await _audit(uow, "report.returned", report, by=change.by, at=at, details=details)
    return await current(uow, address=replace(address, plan_id=report.plan_id), now=now)


async def _locked_current(uow: ConsolidationUnitOfWork, address: ReportAddress, now: datetime) -> ConsolidatedReportV1:
    """The report, its row locked until the transaction ends: one answer of the national office at a time."""
    plan, _ = await plan_and_period(uow, address)
    await uow.reports.lock(address.province, plan.id, address.period, revision=1, create=False)
    return await current(uow, address=replace(address, plan_id=plan.id), now=now)


async def content_changed(
    uow: ConsolidationUnitOfWork, province: str, plan_id: str, period: str, *, unit: str, at: datetime
) -> None:
    """A unit's report changed. An approved report that did not include it goes back to draft, and says so."""
    state = await uow.reports.get(province, plan_id, period)
    if state is None or state.status != "approved":
        return
    revision = await uow.unit_reports.revision(province, plan_id, period)
    if revision <= state.revision:
        return  # the approval already saw this version (a replay)
    # The revert comes after the approval it undoes, whatever the submission's own timestamp says.
    at = _later_than(state.status_at, at)
    change = ReportStatusV1(
        province=province,
        plan_id=plan_id,
        period=period,
        status=next_status("revert", state.status),
        revision=revision,
        at=at,
        by="system",
        reason=f"Trở lại dự thảo: đơn vị {unit} gửi báo cáo sau khi đã duyệt.",
    )
    await take_step(uow, REPORT_REVERTED, change)


async def apply_status(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Store an approved / reverted / reopened step (a replay of one applied live changes nothing)."""
    approved = change.status == "approved"
    await uow.reports.save(
        change.province,
        change.plan_id,
        change.period,
        at=change.at,
        status=change.status,
        revision=change.revision,
        status_reason=None if approved else change.reason,
        approved_at=change.at if approved else None,
        approved_by=change.by if approved else None,
        **({} if approved else UNDONE),
        **NOT_RETURNED,
    )


async def apply_returned(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Store a return to the province: a draft again, saying who returned it, when and why."""
    await uow.reports.save(
        change.province, change.plan_id, change.period, at=change.at, status=change.status, revision=change.revision,
        status_reason=returned_note(change.reason or ""), approved_at=None, approved_by=None, **UNDONE,
        returned_at=change.at, returned_by=change.by, returned_reason=change.reason,
    )  # fmt: skip


async def apply_accepted(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Store an acceptance: the published snapshot stays as it went up; who accepted it and when."""
    await uow.reports.save(
        change.province, change.plan_id, change.period, at=change.at, status=change.status, revision=change.revision,
        status_reason=None, accepted_at=change.at, accepted_by=change.by,
    )  # fmt: skip


async def apply_published(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1) -> None:
    """Store the snapshot that went up, as it went up; its number is taken in the register."""
    await uow.reports.save(
        report.province,
        report.plan_id,
        report.period,
        at=report.published_at,
        status="published",
        revision=report.revision,
        status_reason=None,
        approved_at=report.approved_at,
        approved_by=report.approved_by,
        published_at=report.published_at,
        published_by=report.published_by,
        content=report.model_dump(mode="json"),
        **NOT_RETURNED,
    )
    if report.number and report.number.split("/")[0].isdigit() and report.published_at:
        place = await uow.catalogue.province(report.province)
        year = report.published_at.astimezone(ZoneInfo(place.timezone if place else "UTC")).year
        await uow.register.taken(report.province, year, int(report.number.split("/")[0]))


def _change(
    report: ConsolidatedReportV1, status: str, *, at: datetime, by: str, reason: str | None = None
) -> ReportStatusV1:
    return ReportStatusV1(
        province=report.province,
        plan_id=report.plan_id,
        period=report.period,
        status=status,
        revision=report.revision,
        at=at,
        by=by,
        reason=reason,
    )


def _later_than(last: datetime | None, now: datetime) -> datetime:
    return max(now, last + timedelta(microseconds=1)) if last else now


async def _after_the_last_step(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1, now: datetime) -> datetime:
    """A step's time, strictly after the step stored before it. Our own events come back through the
    consumer, and the stored state only moves forward in time: an approval and a publication in the same
    instant (a clock that has not ticked) must keep their order when the approval is read back."""
    state = await uow.reports.get(report.province, report.plan_id, report.period)
    return _later_than(state.status_at if state else None, now)


async def take_step(uow: ConsolidationUnitOfWork, spec: EventSpec, change: ReportStatusV1) -> None:
    """Store the step as its event says, and publish the event."""
    await apply_status(uow, change)
    await uow.publish(spec, change, province=change.province, at=change.at)


async def _audit(
    uow: ConsolidationUnitOfWork, action: str, report: ConsolidatedReportV1, *, by: str, at: datetime, details: dict
) -> None:
    subject = f"report:{report.province}.{report.plan_id}.{report.period}"
    await uow.audit(at=at, actor=by, action=action, subject=subject, details=details)
