"""Use cases of the consolidated report: read it, approve, publish, reopen, and the national roll-up.

The caller owns the transaction. Every workflow step is an audit row and an event on baocao.reports
through the outbox. `revision` is derived from the content (1 + the sum of the latest versions), so
a rebuild from the topics arrives at the same numbers, and an approval records the revision it saw.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.calendar import due_at, parse_period
from baocao_shared.errors import Forbidden, NotFound, Unprocessable
from baocao_shared.events import make_event, topics
from baocao_shared.events.reports import (
    REPORT_APPROVED,
    REPORT_PUBLISHED,
    REPORT_REOPENED,
    REPORT_REVERTED,
    ConsolidatedReportV1,
    ReportStatusV1,
)
from baocao_shared.messaging.outbox import enqueue
from baocao_shared.principal import Principal
from consolidation.adapters import orm
from consolidation.domain import report as rules
from consolidation.domain.workflow import next_status

SOURCE = "/baocao/consolidation"


async def issue_date(session: AsyncSession, report: ConsolidatedReportV1, *, now: datetime) -> date:
    """The date on the report's date line: the day it was published (or today), in the province's own time."""
    place = await replica.province(session, orm.provinces, report.province)
    return (report.published_at or now).astimezone(ZoneInfo(place.timezone if place else "UTC")).date()


async def resolve_plan(session: AsyncSession, province: str, plan_id: str | None):
    plans = await replica.plans_of(session, orm.plans, province)
    if plan_id:
        found = [p for p in plans if p.id == plan_id]
        if not found:
            raise NotFound(f"Province {province} has no active plan {plan_id!r}.")
        return found[0]
    if not plans:
        raise NotFound(f"No plan of province {province} is known here yet.")
    if len(plans) > 1:
        raise Unprocessable(
            "This province has several plans; say which with plan_id.", {"plan_ids": [p.id for p in plans]}
        )
    return plans[0]


async def _row(session: AsyncSession, province: str, plan_id: str, period: str):
    r = orm.reports.c
    return (
        await session.execute(
            select(orm.reports).where(r.province == province, r.plan_id == plan_id, r.period == period)
        )
    ).first()


async def revision_of(session: AsyncSession, province: str, plan_id: str, period: str) -> int:
    u = orm.unit_reports.c
    total = await session.scalar(
        select(func.coalesce(func.sum(u.version), 0)).where(
            u.province == province, u.plan_id == plan_id, u.period == period
        )
    )
    return 1 + int(total)


async def approved_revisions(
    session: AsyncSession, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Of the (province, plan_id, period) reports given, the approved ones: the revision each approval
    saw, and the revision the content has now."""
    if not keys:
        return {}
    r, u = orm.reports.c, orm.unit_reports.c
    now = (
        select(func.coalesce(func.sum(u.version), 0))
        .where(u.province == r.province, u.plan_id == r.plan_id, u.period == r.period)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(r.province, r.plan_id, r.period, r.revision, now).where(
            r.status == "approved", tuple_(r.province, r.plan_id, r.period).in_(keys)
        )
    )
    return {(p, plan, period): (seen, 1 + int(total)) for p, plan, period, seen, total in rows}


async def current(
    session: AsyncSession, *, province: str, plan_id: str | None, period: str, now: datetime
) -> ConsolidatedReportV1:
    """The published snapshot when there is one; otherwise the report as the submissions make it now."""
    plan = await resolve_plan(session, province, plan_id)
    try:
        parsed = parse_period(period, plan.calendar.frequency)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    row = await _row(session, province, plan.id, period)
    if row is not None and row.status == "published" and row.content:
        return ConsolidatedReportV1.model_validate(row.content)
    place = await replica.province(session, orm.provinces, province)
    if place is None:
        raise NotFound(f"Province {province} is not known here yet.")
    u = orm.unit_reports.c
    latest = [
        rules.LatestReport(
            unit=r.unit,
            version=r.version,
            received_at=r.received_at,
            first_received_at=r.first_received_at,
            values=r.values,
            narratives=r.narratives,
        )
        for r in await session.execute(
            select(orm.unit_reports).where(u.province == province, u.plan_id == plan.id, u.period == period)
        )
    ]
    o = orm.obligations.c
    known = {
        r.unit: rules.Timeliness(r.status, r.late_by_s)
        for r in await session.execute(
            select(orm.obligations).where(o.province == province, o.plan_id == plan.id, o.period == period)
        )
    }
    closed = await session.scalar(
        select(orm.period_closes.c.closed_at).where(
            orm.period_closes.c.province == province,
            orm.period_closes.c.plan_id == plan.id,
            orm.period_closes.c.period == period,
        )
    )
    names = await replica.unit_names(session, orm.units, province)
    section_two = rules.discipline(
        expected=plan.units,
        names=names,
        known=known,
        latest={r.unit: r for r in latest},
        due_at=due_at(parsed, plan.calendar, place.timezone),
        now=now,
        closed=closed is not None,
    )
    workflow: dict[str, Any] = {"status": "draft", "revision": await revision_of(session, province, plan.id, period)}
    if row is not None:
        workflow |= {"status": row.status, "approved_at": row.approved_at, "approved_by": row.approved_by}
    report = rules.build_report(
        plan=plan, province=place, period=period, names=names, latest=latest, discipline=section_two, workflow=workflow
    )
    return report.model_copy(update={"status_note": row.status_reason if row is not None else None})


async def approve(
    session: AsyncSession, *, principal: Principal, province: str, plan_id: str | None, period: str, now: datetime
) -> ConsolidatedReportV1:
    _may_operate(principal, province)
    report = await current(session, province=province, plan_id=plan_id, period=period, now=now)
    next_status("approve", report.status)
    await _save(
        session,
        report.province,
        report.plan_id,
        period,
        at=now,
        status="approved",
        revision=report.revision,
        status_reason=None,
        approved_at=now,
        approved_by=principal.subject,
    )
    await _announce(session, REPORT_APPROVED, report, "approved", now, principal.subject)
    await _audit(session, "report.approved", report, principal.subject, now, {"revision": report.revision})
    return await current(session, province=province, plan_id=report.plan_id, period=period, now=now)


async def publish(
    session: AsyncSession, *, principal: Principal, province: str, plan_id: str | None, period: str, now: datetime
) -> ConsolidatedReportV1:
    _may_operate(principal, province)
    report = await current(session, province=province, plan_id=plan_id, period=period, now=now)
    next_status("publish", report.status)
    published = report.model_copy(
        update={"status": "published", "status_note": None, "published_at": now, "published_by": principal.subject}
    )
    await _save(
        session,
        report.province,
        report.plan_id,
        period,
        at=now,
        status="published",
        revision=report.revision,
        status_reason=None,
        published_at=now,
        published_by=principal.subject,
        content=published.model_dump(mode="json"),
    )
    event = make_event(REPORT_PUBLISHED, published, source=SOURCE, province=province, time=now)
    await enqueue(session, orm.outbox, topics.REPORTS, [event])
    await _audit(session, "report.published", report, principal.subject, now, {"revision": report.revision})
    return published


async def reopen(
    session: AsyncSession,
    *,
    principal: Principal,
    province: str,
    plan_id: str | None,
    period: str,
    reason: str,
    now: datetime,
) -> ConsolidatedReportV1:
    """Admin only: a published period goes back to draft, and intake accepts amendments again."""
    report = await current(session, province=province, plan_id=plan_id, period=period, now=now)
    next_status("reopen", report.status)
    note = f"Mở lại: {reason}"  # the event carries the same note, so a rebuild shows the same words
    await _save(
        session,
        report.province,
        report.plan_id,
        period,
        at=now,
        status="draft",
        revision=report.revision,
        status_reason=note,
        content=None,
        approved_at=None,
        approved_by=None,
        published_at=None,
        published_by=None,
    )
    await _announce(session, REPORT_REOPENED, report, "draft", now, principal.subject, note)
    await _audit(
        session, "report.reopened", report, principal.subject, now, {"revision": report.revision, "reason": reason}
    )
    return await current(session, province=province, plan_id=report.plan_id, period=period, now=now)


async def content_changed(
    session: AsyncSession, province: str, plan_id: str, period: str, *, unit: str, at: datetime
) -> None:
    """A unit's report changed. An approved report that did not include it goes back to draft, and says so."""
    row = await _row(session, province, plan_id, period)
    if row is None or row.status != "approved":
        return
    revision = await revision_of(session, province, plan_id, period)
    if revision <= row.revision:
        return  # the approval already saw this version (a replay)
    reason = f"Trở lại dự thảo: đơn vị {unit} gửi báo cáo sau khi đã duyệt."
    # The revert comes after the approval it undoes, whatever the submission's own timestamp says.
    at = max(at, row.status_at + timedelta(microseconds=1)) if row.status_at else at
    await _save(
        session,
        province,
        plan_id,
        period,
        at=at,
        status="draft",
        revision=revision,
        status_reason=reason,
        approved_at=None,
        approved_by=None,
    )
    change = ReportStatusV1(
        province=province,
        plan_id=plan_id,
        period=period,
        status="draft",
        revision=revision,
        at=at,
        by="system",
        reason=reason,
    )
    await enqueue(
        session,
        orm.outbox,
        topics.REPORTS,
        [make_event(REPORT_REVERTED, change, source=SOURCE, province=province, time=at)],
    )


async def apply_status(session: AsyncSession, change: ReportStatusV1) -> None:
    """Replay of an approved / reverted / reopened event (a no-op when it was applied live)."""
    approved = change.status == "approved"
    await _save(
        session,
        change.province,
        change.plan_id,
        change.period,
        at=change.at,
        status=change.status,
        revision=change.revision,
        status_reason=None if approved else change.reason,
        approved_at=change.at if approved else None,
        approved_by=change.by if approved else None,
        **({} if approved else {"content": None, "published_at": None, "published_by": None}),
    )


async def apply_published(session: AsyncSession, report: ConsolidatedReportV1) -> None:
    await _save(
        session,
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
    )


async def _save(
    session: AsyncSession, province: str, plan_id: str, period: str, *, at: datetime, **values: Any
) -> None:
    """Write the workflow state as of `at`. Our own events come back through the consumer after the
    live write: one older than the state already stored (an approval read back after the publish) is
    ignored, so the state never moves backwards."""
    values = {**values, "status_at": at}
    stmt = insert(orm.reports).values(province=province, plan_id=plan_id, period=period, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["province", "plan_id", "period"],
            set_=values,
            where=orm.reports.c.status_at <= at,
        )
    )


async def _announce(session, spec, report, status, now, by, reason=None) -> None:
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
    await enqueue(
        session,
        orm.outbox,
        topics.REPORTS,
        [make_event(spec, change, source=SOURCE, province=report.province, time=now)],
    )


async def _audit(session, action, report, actor, now, details) -> None:
    await session.execute(
        orm.audit_log.insert().values(
            at=now,
            actor=actor,
            action=action,
            subject=f"report:{report.province}.{report.plan_id}.{report.period}",
            details=details,
        )
    )


def _may_operate(principal: Principal, province: str) -> None:
    if not principal.may_operate_province(province):
        raise Forbidden("Only the province's own operators approve and publish its report.")


async def national(session: AsyncSession, *, period: str) -> dict[str, Any]:
    """Every province's report status for the period, and totals over the published reports."""
    r = orm.reports.c
    rows = {(x.province, x.plan_id): x for x in await session.execute(select(orm.reports).where(r.period == period))}
    provinces, totals, missing = [], {}, []
    for p in await session.execute(select(orm.provinces.c.doc).order_by(orm.provinces.c.code)):
        code, name = p.doc["code"], p.doc["name"]
        for plan in await replica.plans_of(session, orm.plans, code):
            row = rows.get((code, plan.id))
            status = row.status if row is not None else "draft"
            entry = {
                "province": code,
                "province_name": name,
                "plan_id": plan.id,
                "plan_number": plan.number,
                "status": status,
                "published_at": row.published_at if row is not None else None,
            }
            provinces.append(entry)
            if status == "published" and row.content:
                for indicator, value in row.content["totals"].items():
                    totals[indicator] = totals.get(indicator, 0) + value
            else:
                missing.append({"province": code, "province_name": name, "plan_id": plan.id})
    return {
        "period": period,
        "provinces": provinces,
        "totals": dict(sorted(totals.items())),
        "published": sum(1 for e in provinces if e["status"] == "published"),
        "not_reported": missing,
    }
