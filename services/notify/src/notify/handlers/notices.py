"""Turn an event into deliveries: who is told, and the message they get (thông báo).

The consumer's transaction only records the deliveries (pending); the sender sends them. A second
copy of one event adds nothing: each (event, recipient, channel) is delivered once.

baocao.catalog and the notice topics are not ordered together (a fresh consumer group reads them side
by side), so a notice may come before its unit, plan or province. It then waits (`waiting_notices`) until
that unit's, plan's or province's upsert releases it, through the same use case and under its own event id.
A unit or province that is known but has no contacts gets nothing, and nothing waits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from baocao_shared.events.catalog import ContactV1
from baocao_shared.events.deadlines import EscalationV1, NationalEscalationV1, ProvinceNoticeV1, UnitNoticeV1
from baocao_shared.events.reports import ConsolidatedReportV1, DocumentRefV1, ReportStatusV1
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.cause import Cause
from notify.domain.delivery import NewDelivery
from notify.domain.recipients import deliverable
from notify.messages import Message, render

log = structlog.get_logger(__name__)
KIND_OF_NOTICE = {"reminder": "reminder", "overdue": "overdue", "nudge": "nudge"}

NoticeUseCase = Callable[..., Awaitable[int]]  # (uow, typed data, *, cause) -> deliveries recorded
# The notices that wait for the catalogue.
WaitingNotice = UnitNoticeV1 | EscalationV1 | ProvinceNoticeV1 | ReportStatusV1 | ConsolidatedReportV1
# A national escalation digest names no one province: its deliveries are filed under this code (no province has it).
NATIONAL_PROVINCE = "00"


@dataclass(frozen=True)
class Notices:
    """What turns a notice into deliveries, also one released from waiting: the use case of each notice type
    (the consumer's map, notify.consumers) and the addresses its messages link to."""

    use_cases: Mapping[str, NoticeUseCase]
    service_urls: Mapping[str, str]

    def cause(self, event_id: uuid.UUID, event_type: str) -> Cause:
        return Cause(event_id=event_id, event_type=event_type, service_urls=self.service_urls)


async def unit_notice(uow: NotifyUnitOfWork, notice: UnitNoticeV1, *, cause: Cause) -> int:
    """A reminder, overdue notice or nudge: to the unit's own contacts."""
    await uow.waiting.hold(notice.province, notice.unit)
    unit = await uow.catalog.unit(notice.province, notice.unit)
    if unit is None:
        return await wait(uow, cause, notice, unit=notice.unit)
    message = render(
        KIND_OF_NOTICE.get(notice.kind, "nudge"),
        unit_name=notice.unit_name,
        period=notice.period,
        due_at=notice.due_at,
        late_by_s=notice.late_by_s,
        message=notice.message,
        tz=(await uow.catalog.place(notice.province)).timezone,
        link=cause.link("intake", "/dang-nhap"),
    )
    return await record(
        uow, cause, province=notice.province, plan_id=notice.plan_id, period=notice.period,
        unit=notice.unit, contacts=unit.contacts, message=message, label=unit.name,
    )  # fmt: skip


async def escalation(uow: NotifyUnitOfWork, digest: EscalationV1, *, cause: Cause) -> int:
    """The digest of missing units: to the province's operators."""
    return await _to_operators(
        uow, cause, digest, "escalation",
        due_at=digest.due_at, fire_at=digest.fire_at, expected=digest.expected, missing_units=digest.missing_units,
        link=cause.link(
            "deadlines", "/tien-do", province=digest.province, plan_id=digest.plan_id, period=digest.period
        ),
    )  # fmt: skip


async def province_notice(uow: NotifyUnitOfWork, notice: ProvinceNoticeV1, *, cause: Cause) -> int:
    """A reminder, overdue notice or the national office's nudge about the province's report to the national
    office: to the province's operators."""
    return await _to_operators(
        uow, cause, notice, f"province_{notice.kind}",
        due_at=notice.due_at, late_by_s=notice.late_by_s, message=notice.message,
        link=cause.report_page(notice.province, notice.period, notice.plan_id),
    )  # fmt: skip


async def national_escalation(
    uow: NotifyUnitOfWork, digest: NationalEscalationV1, *, cause: Cause, national_contacts: Sequence[ContactV1]
) -> int:
    """The digest of provinces whose report is missing: to the national standing office (notify's settings)."""
    message = render(
        "national_escalation",
        period=digest.period, due_at=digest.due_at, fire_at=digest.fire_at, expected=digest.expected,
        missing_provinces=[p.model_dump() for p in digest.missing_provinces],
        link=cause.link("deadlines", "/tien-do/quoc-gia", period=digest.period),
    )  # fmt: skip
    return await record(
        uow, cause, province=NATIONAL_PROVINCE, period=digest.period, contacts=national_contacts, message=message,
        label="Văn phòng Thường trực",
    )  # fmt: skip


async def report_approved(uow: NotifyUnitOfWork, status: ReportStatusV1, *, cause: Cause) -> int:
    """An approved report, waiting to be published: to the province's operators."""
    return await _to_operators(
        uow, cause, status, "report_approved",
        at=status.at, by=status.by, link=cause.report_page(status.province, status.period, status.plan_id),
    )  # fmt: skip


async def report_returned(uow: NotifyUnitOfWork, status: ReportStatusV1, *, cause: Cause) -> int:
    """The national office returned the report, saying why: to the province's operators, who rework it."""
    return await _to_operators(
        uow, cause, status, "report_returned",
        at=status.at, by=status.by, reason=status.reason or "",
        link=cause.report_page(status.province, status.period, status.plan_id),
    )  # fmt: skip


async def report_accepted(uow: NotifyUnitOfWork, status: ReportStatusV1, *, cause: Cause) -> int:
    """The national office accepted the report: to the province's operators."""
    return await _to_operators(
        uow, cause, status, "report_accepted",
        at=status.at, by=status.by, link=cause.report_page(status.province, status.period, status.plan_id),
    )  # fmt: skip


async def _to_operators(
    uow: NotifyUnitOfWork,
    cause: Cause,
    notice: EscalationV1 | ProvinceNoticeV1 | ReportStatusV1,
    kind: str,
    **context: Any,
) -> int:
    """A notice of `kind` for the province's operators (its cơ quan thường trực), named and timed as the
    catalogue says; it waits for a province the catalogue does not know yet."""
    await uow.waiting.hold(notice.province)
    province = await uow.catalog.province(notice.province)
    if province is None:
        return await wait(uow, cause, notice)
    addressee = f"Cơ quan thường trực {province.name}"
    message = render(
        kind, addressee=addressee, province_name=province.name, period=notice.period, tz=province.timezone, **context,
    )  # fmt: skip
    return await record(
        uow, cause, province=notice.province, plan_id=notice.plan_id, period=notice.period,
        contacts=province.operator_contacts, message=message, label=addressee,
    )  # fmt: skip


async def release(
    uow: NotifyUnitOfWork, *, province: str, unit: str | None = None, plan_id: str | None = None, notices: Notices
) -> int:
    """Deliver the notices that waited for this unit, or plan, or (both None) this province, and forget them.

    A notice that needs more of the catalogue (a published report's next unit) waits again, for that."""
    await uow.waiting.hold(province, unit, plan_id=plan_id)
    recorded = 0
    for cause, notice in await uow.waiting.take(province, unit, service_urls=notices.service_urls, plan_id=plan_id):
        added = await notices.use_cases[cause.event_type](uow, notice, cause=cause)
        log.info(
            "notice.released",
            event_id=str(cause.event_id), event_type=cause.event_type, province=province, unit=unit, plan_id=plan_id,
            deliveries=added,
        )  # fmt: skip
        recorded += added
    return recorded


async def record(
    uow: NotifyUnitOfWork,
    cause: Cause,
    *,
    province: str,
    contacts: Sequence[ContactV1],
    message: Message,
    label: str,
    plan_id: str | None = None,
    period: str | None = None,
    unit: str | None = None,
) -> int:
    """One pending delivery per reachable contact, each (event, recipient, channel) once; returns how many are new."""
    return await uow.deliveries.add_once(
        [
            pending(cause, contact, message, province=province, plan_id=plan_id, period=period, unit=unit, label=label)
            for contact in deliverable(contacts)
        ]
    )


def pending(
    cause: Cause,
    contact: ContactV1,
    message: Message,
    *,
    province: str,
    label: str,
    plan_id: str | None = None,
    period: str | None = None,
    unit: str | None = None,
    document: DocumentRefV1 | None = None,
) -> NewDelivery:
    """The delivery of `message` to one contact, named `label` in the log, carrying `document` if any."""
    return NewDelivery(
        id=uuid.uuid4(),
        cause_event_id=cause.event_id,
        cause_type=cause.event_type,
        province=province,
        plan_id=plan_id,
        period=period,
        unit=unit,
        channel=contact.channel,
        recipient=contact.address.strip(),
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        recipient_label=label[:300],
        document_sha256=document.sha256 if document else None,
        document_filename=document.filename if document else None,
    )


async def wait(
    uow: NotifyUnitOfWork, cause: Cause, notice: WaitingNotice, *, unit: str | None = None, plan_id: str | None = None
) -> int:
    """Keep a notice whose unit, or plan, or (both None) province the catalogue does not know yet."""
    await uow.waiting.keep(cause, notice, unit=unit, plan_id=plan_id)
    log.info(
        "notice.waiting_for_catalogue",
        event_id=str(cause.event_id), event_type=cause.event_type, province=notice.province, unit=unit,
        plan_id=plan_id,
    )  # fmt: skip
    return 0
