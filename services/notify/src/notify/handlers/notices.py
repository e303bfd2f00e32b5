"""Turn an event into deliveries: who is told, and the message they get (thông báo).

The consumer's transaction only records the deliveries (pending); the sender sends them. A second
copy of one event adds nothing: each (event, recipient, channel) is delivered once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.events.catalog import ContactV1, UnitV1
from baocao_shared.events.deadlines import EscalationV1, UnitNoticeV1
from baocao_shared.events.reports import ConsolidatedReportV1, ReportStatusV1
from notify.adapters import orm
from notify.domain.recipients import deliverable
from notify.messages import Message, render

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
    doc = await session.scalar(
        select(orm.units.c.doc).where(orm.units.c.province == notice.province, orm.units.c.code == notice.unit)
    )
    contacts = UnitV1.model_validate(doc).contacts if doc else []
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
        unit=notice.unit, contacts=contacts, message=message,
    )  # fmt: skip


async def escalation(session: AsyncSession, digest: EscalationV1, *, cause: Cause) -> int:
    """The digest of missing units: to the province's operators."""
    province = await replica.province(session, orm.provinces, digest.province)
    message = render(
        "escalation",
        province_name=province.name if province else digest.province,
        period=digest.period,
        due_at=digest.due_at,
        fire_at=digest.fire_at,
        expected=digest.expected,
        missing_units=digest.missing_units,
        tz=province.timezone if province else "Asia/Ho_Chi_Minh",
        link=cause.link("deadlines", f"/tien-do?province={digest.province}"),
    )
    contacts = province.operator_contacts if province else []
    return await record(
        session, cause, province=digest.province, plan_id=digest.plan_id, period=digest.period,
        contacts=contacts, message=message,
    )  # fmt: skip


async def report_approved(session: AsyncSession, status: ReportStatusV1, *, cause: Cause) -> int:
    """An approved report, waiting to be published: to the province's operators."""
    province = await replica.province(session, orm.provinces, status.province)
    name = province.name if province else status.province
    message = render(
        "report_approved",
        addressee=f"Cơ quan thường trực {name}",
        province_name=name,
        period=status.period,
        at=status.at,
        by=status.by,
        tz=province.timezone if province else "Asia/Ho_Chi_Minh",
        link=cause.link("consolidation", f"/bao-cao/{status.province}/{status.period}"),
    )
    contacts = province.operator_contacts if province else []
    return await record(
        session, cause, province=status.province, plan_id=status.plan_id, period=status.period,
        contacts=contacts, message=message,
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
        link=cause.link("consolidation", f"/bao-cao/{report.province}/{report.period}"),
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


async def _timezone(session: AsyncSession, code: str) -> str:
    province = await replica.province(session, orm.provinces, code)
    return province.timezone if province else "Asia/Ho_Chi_Minh"
