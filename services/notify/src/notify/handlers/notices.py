"""Turn an event into deliveries: who is told, and the message they get (thông báo).

The consumer's transaction only records the deliveries (pending); the sender sends them. A second
copy of one event adds nothing: each (event, recipient, channel) is delivered once.

baocao.catalog and the notice topics are not ordered together (a fresh consumer group reads them side
by side), so a notice may come before its unit or province. It then waits (`waiting_notices`) until
that unit's or province's upsert releases it, through the same use case and under its own event id.
A unit or province that is known but has no contacts gets nothing, and nothing waits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events import spec_for
from baocao_shared.events.catalog import ContactV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    NUDGE_REQUESTED,
    REMINDER_DUE,
    EscalationV1,
    UnitNoticeV1,
)
from baocao_shared.events.reports import REPORT_APPROVED, ConsolidatedReportV1, ReportStatusV1
from notify.adapters import orm
from notify.domain.recipients import deliverable
from notify.messages import Message, render

log = structlog.get_logger(__name__)
KIND_OF_NOTICE = {"reminder": "reminder", "overdue": "overdue", "nudge": "nudge"}


@dataclass(frozen=True)
class Cause:
    """The event a delivery answers, and what the messages may link to."""

    event_id: uuid.UUID
    event_type: str
    service_urls: Mapping[str, str]

    def link(self, service: str, path: str) -> str | None:
        base = self.service_urls.get(service)
        return f"{base.rstrip('/')}{path}" if base else None


async def unit_notice(session: AsyncSession, notice: UnitNoticeV1, *, cause: Cause) -> int:
    """A reminder, overdue notice or nudge: to the unit's own contacts."""
    unit = await _catalogued_unit(session, notice.province, notice.unit)
    if unit is None:
        return await wait(session, cause, notice, unit=notice.unit)
    message = render(
        KIND_OF_NOTICE.get(notice.kind, "nudge"),
        unit_name=notice.unit_name,
        period=notice.period,
        due_at=notice.due_at,
        late_by_s=notice.late_by_s,
        message=notice.message,
        tz=await _timezone(session, notice.province),
        link=cause.link("intake", "/dang-nhap"),
    )
    return await record(
        session, cause, province=notice.province, plan_id=notice.plan_id, period=notice.period,
        unit=notice.unit, contacts=unit.contacts, message=message,
    )  # fmt: skip


async def escalation(session: AsyncSession, digest: EscalationV1, *, cause: Cause) -> int:
    """The digest of missing units: to the province's operators."""
    province = await _catalogued_province(session, digest.province)
    if province is None:
        return await wait(session, cause, digest)
    message = render(
        "escalation",
        province_name=province.name,
        period=digest.period,
        due_at=digest.due_at,
        fire_at=digest.fire_at,
        expected=digest.expected,
        missing_units=digest.missing_units,
        tz=province.timezone,
        link=cause.link("deadlines", f"/tien-do?province={digest.province}"),
    )
    return await record(
        session, cause, province=digest.province, plan_id=digest.plan_id, period=digest.period,
        contacts=province.operator_contacts, message=message,
    )  # fmt: skip


async def report_approved(session: AsyncSession, status: ReportStatusV1, *, cause: Cause) -> int:
    """An approved report, waiting to be published: to the province's operators."""
    province = await _catalogued_province(session, status.province)
    if province is None:
        return await wait(session, cause, status)
    message = render(
        "report_approved",
        addressee=f"Cơ quan thường trực {province.name}",
        province_name=province.name,
        period=status.period,
        at=status.at,
        by=status.by,
        tz=province.timezone,
        link=cause.link("consolidation", f"/tong-hop/{status.province}/{status.period}"),
    )
    return await record(
        session, cause, province=status.province, plan_id=status.plan_id, period=status.period,
        contacts=province.operator_contacts, message=message,
    )  # fmt: skip


async def report_published(
    session: AsyncSession, report: ConsolidatedReportV1, *, cause: Cause, national_contacts: Sequence[ContactV1]
) -> int:
    """A published report: to the national standing office."""
    message = render(
        "report_published",
        addressee="Văn phòng Thường trực",
        province_name=report.province_name,
        period=report.period,
        at=report.published_at or report.approved_at,
        tz=await _timezone(session, report.province),
        link=cause.link("consolidation", f"/tong-hop/{report.province}/{report.period}"),
    )
    return await record(
        session, cause, province=report.province, plan_id=report.plan_id, period=report.period,
        contacts=national_contacts, message=message,
    )  # fmt: skip


async def record(
    session: AsyncSession,
    cause: Cause,
    *,
    province: str,
    contacts: Sequence[ContactV1],
    message: Message,
    plan_id: str | None = None,
    period: str | None = None,
    unit: str | None = None,
) -> int:
    """Insert one pending delivery per reachable contact; returns how many are new."""
    rows = [
        {
            "id": uuid.uuid4(),
            "cause_event_id": cause.event_id,
            "cause_type": cause.event_type,
            "province": province,
            "plan_id": plan_id,
            "period": period,
            "unit": unit,
            "channel": contact.channel,
            "recipient": contact.address.strip(),
            "subject": message.subject,
            "body_text": message.text,
            "body_html": message.html,
        }
        for contact in deliverable(contacts)
    ]
    if not rows:
        return 0
    inserted = await session.execute(
        insert(orm.deliveries).values(rows).on_conflict_do_nothing().returning(orm.deliveries.c.id)
    )
    return len(inserted.all())


async def wait(session: AsyncSession, cause: Cause, notice: BaseModel, *, unit: str | None = None) -> int:
    """Keep a notice whose unit (or, without a unit, whose province) the catalogue does not know yet."""
    await session.execute(insert(orm.waiting_notices).values(kept(cause, notice, unit=unit)).on_conflict_do_nothing())
    log.info(
        "notice.waiting_for_catalogue",
        event_id=str(cause.event_id), event_type=cause.event_type, province=notice.province, unit=unit,
    )  # fmt: skip
    return 0


async def release(
    session: AsyncSession, *, province: str, unit: str | None = None, service_urls: Mapping[str, str]
) -> int:
    """Deliver the notices that waited for this unit (or this province), and forget them."""
    await _hold(session, province, unit)
    w = orm.waiting_notices.c
    rows = await session.execute(
        delete(orm.waiting_notices)
        .where(w.province == province, w.unit == unit)  # unit None: the province's own notices
        .returning(w.cause_event_id, w.cause_type, w.data, w.created_at)
    )
    recorded = 0
    for row in sorted(rows, key=lambda r: r.created_at):
        cause, notice = revived(row._mapping, service_urls)
        added = await _WAITING_USE_CASES[cause.event_type](session, notice, cause=cause)
        log.info(
            "notice.released",
            event_id=str(cause.event_id), event_type=cause.event_type, province=province, unit=unit, deliveries=added,
        )  # fmt: skip
        recorded += added
    return recorded


def kept(cause: Cause, notice: BaseModel, *, unit: str | None) -> dict[str, Any]:
    """The waiting_notices row of a notice: its cause, whom it waits for, and its data."""
    return {
        "cause_event_id": cause.event_id,
        "cause_type": cause.event_type,
        "province": notice.province,
        "unit": unit,
        "data": notice.model_dump(mode="json"),
    }


def revived(row: Mapping[str, Any], service_urls: Mapping[str, str]) -> tuple[Cause, BaseModel]:
    """A kept notice as it came: the same cause (so it is still delivered once) and its typed data."""
    cause = Cause(event_id=row["cause_event_id"], event_type=row["cause_type"], service_urls=service_urls)
    return cause, spec_for(cause.event_type).model.model_validate(row["data"])


async def _catalogued_unit(session: AsyncSession, province: str, code: str) -> UnitV1 | None:
    await _hold(session, province, code)
    doc = await session.scalar(
        select(orm.units.c.doc).where(orm.units.c.province == province, orm.units.c.code == code)
    )
    return UnitV1.model_validate(doc) if doc else None


async def _catalogued_province(session: AsyncSession, code: str) -> ProvinceV1 | None:
    await _hold(session, code)
    return await replica.province(session, orm.provinces, code)


async def _hold(session: AsyncSession, province: str, unit: str | None = None) -> None:
    """Take turns, until commit, with whoever looks up or releases the same unit (or province).

    With several members in the group a notice and its unit's upsert can be applied at once; the
    lock makes either the notice see the unit or the upsert see the waiting notice.
    """
    key = f"notify.waiting:{province}:{unit or ''}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def _timezone(session: AsyncSession, code: str) -> str:
    province = await replica.province(session, orm.provinces, code)
    return province.timezone if province else "Asia/Ho_Chi_Minh"


# The notices that can wait for the catalogue, and the use case that delivers each once released.
_WAITING_USE_CASES: dict[str, Callable[..., Awaitable[int]]] = {
    REMINDER_DUE.type: unit_notice,
    DEADLINE_MISSED.type: unit_notice,
    NUDGE_REQUESTED.type: unit_notice,
    ESCALATION_RAISED.type: escalation,
    REPORT_APPROVED.type: report_approved,
}
