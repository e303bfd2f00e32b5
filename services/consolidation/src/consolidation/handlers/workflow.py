"""The report's workflow: approve, publish, reopen, and the way back to draft when a unit's report changes
after the approval; and the same steps applied again from the topics on a rebuild.

The caller owns the transaction. Every step by a person is an audit row and an event on baocao.reports
through the outbox, committed with the state change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from baocao_shared.events.registry import EventSpec
from baocao_shared.events.reports import (
    REPORT_APPROVED,
    REPORT_PUBLISHED,
    REPORT_REOPENED,
    REPORT_REVERTED,
    ConsolidatedReportV1,
    ReportStatusV1,
)
from baocao_shared.principal import Principal
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.errors import NotTheProvincesOperator
from consolidation.domain.workflow import next_status
from consolidation.handlers.reports import current

UNDONE = {"content": None, "published_at": None, "published_by": None}  # what a step back to draft clears


def check_operator(principal: Principal, *, province: str) -> None:
    """The province's own operators, and admins, approve and publish its report."""
    if not principal.may_operate_province(province):
        raise NotTheProvincesOperator(province=province)


async def approve(
    uow: ConsolidationUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    now: datetime,
) -> ConsolidatedReportV1:
    """The province's operator approves the draft; the approval records the revision it saw."""
    check_operator(principal, province=province)
    report = await current(uow, province=province, plan_id=plan_id, period=period, now=now)
    status = next_status("approve", report.status)
    await uow.reports.save(
        report.province,
        report.plan_id,
        period,
        at=now,
        status=status,
        revision=report.revision,
        status_reason=None,
        approved_at=now,
        approved_by=principal.subject,
    )
    await _announce(uow, REPORT_APPROVED, report, status, now, principal.subject)
    await _audit(uow, "report.approved", report, principal.subject, now, {"revision": report.revision})
    return await current(uow, province=province, plan_id=report.plan_id, period=period, now=now)


async def publish(
    uow: ConsolidationUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    now: datetime,
) -> ConsolidatedReportV1:
    """The province's operator sends the approved report up: its snapshot is stored and published, and the
    period is locked (intake refuses submissions for it)."""
    check_operator(principal, province=province)
    report = await current(uow, province=province, plan_id=plan_id, period=period, now=now)
    status = next_status("publish", report.status)
    published = report.model_copy(
        update={"status": status, "status_note": None, "published_at": now, "published_by": principal.subject}
    )
    await _store_published(uow, published, at=now, approved={})
    await uow.publish(REPORT_PUBLISHED, published, province=province, at=now)
    await _audit(uow, "report.published", report, principal.subject, now, {"revision": report.revision})
    return published


async def reopen(
    uow: ConsolidationUnitOfWork,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    reason: str,
    now: datetime,
) -> ConsolidatedReportV1:
    """Admin only (the route requires it): a published period goes back to draft, and intake accepts
    amendments again."""
    report = await current(uow, province=province, plan_id=plan_id, period=period, now=now)
    status = next_status("reopen", report.status)
    note = f"Mở lại: {reason}"  # the event carries the same note, so a rebuild shows the same words
    await uow.reports.save(
        report.province,
        report.plan_id,
        period,
        at=now,
        status=status,
        revision=report.revision,
        status_reason=note,
        approved_at=None,
        approved_by=None,
        **UNDONE,
    )
    await _announce(uow, REPORT_REOPENED, report, status, now, principal.subject, note)
    details = {"revision": report.revision, "reason": reason}
    await _audit(uow, "report.reopened", report, principal.subject, now, details)
    return await current(uow, province=province, plan_id=report.plan_id, period=period, now=now)


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
    status = next_status("revert", state.status)
    reason = f"Trở lại dự thảo: đơn vị {unit} gửi báo cáo sau khi đã duyệt."
    # The revert comes after the approval it undoes, whatever the submission's own timestamp says.
    at = max(at, state.status_at + timedelta(microseconds=1)) if state.status_at else at
    await uow.reports.save(
        province,
        plan_id,
        period,
        at=at,
        status=status,
        revision=revision,
        status_reason=reason,
        approved_at=None,
        approved_by=None,
    )
    change = ReportStatusV1(
        province=province,
        plan_id=plan_id,
        period=period,
        status=status,
        revision=revision,
        at=at,
        by="system",
        reason=reason,
    )
    await uow.publish(REPORT_REVERTED, change, province=province, at=at)


async def apply_status(uow: ConsolidationUnitOfWork, change: ReportStatusV1) -> None:
    """Replay of an approved / reverted / reopened event (a no-op when it was applied live)."""
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
    )


async def apply_published(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1) -> None:
    """Replay of a published event: the snapshot that went up, as it went up."""
    approval = {"approved_at": report.approved_at, "approved_by": report.approved_by}
    await _store_published(uow, report, at=report.published_at, approved=approval)


async def _store_published(
    uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1, *, at: datetime | None, approved: dict
) -> None:
    """Store the snapshot that went up; `approved` carries the approval when a replay knows it."""
    await uow.reports.save(
        report.province,
        report.plan_id,
        report.period,
        at=at,
        status="published",
        revision=report.revision,
        status_reason=None,
        **approved,
        published_at=report.published_at,
        published_by=report.published_by,
        content=report.model_dump(mode="json"),
    )


async def _announce(
    uow: ConsolidationUnitOfWork,
    spec: EventSpec,
    report: ConsolidatedReportV1,
    status: str,
    now: datetime,
    by: str,
    reason: str | None = None,
) -> None:
    change = ReportStatusV1(
        province=report.province,
        plan_id=report.plan_id,
        period=report.period,
        status=status,
        revision=report.revision,
        at=now,
        by=by,
        reason=reason,
    )
    await uow.publish(spec, change, province=report.province, at=now)


async def _audit(
    uow: ConsolidationUnitOfWork, action: str, report: ConsolidatedReportV1, actor: str, now: datetime, details: dict
) -> None:
    subject = f"report:{report.province}.{report.plan_id}.{report.period}"
    await uow.audit(at=now, actor=actor, action=action, subject=subject, details=details)
