"""A published report to its "Nơi nhận": the signed PDF to every addressee that has a contact (gửi văn bản).

Each contact of each addressee is one delivery, named in the log by its line (or its unit); a mail attaches
the signed PDF, the in-app inbox and webhooks give the report's link instead. Who is reached is the domain's
rule (notify.domain.recipients); this finds what it needs of the catalogue, or waits for it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

from baocao_shared.events.catalog import ContactV1, UnitV1
from baocao_shared.events.reports import ConsolidatedReportV1, DocumentRefV1
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.cause import Cause
from notify.domain.documents import signed_pdf
from notify.domain.errors import DocumentNotKept
from notify.domain.recipients import addressed, addressees_of
from notify.handlers.notices import pending, wait
from notify.messages import render

T = TypeVar("T")


@dataclass(frozen=True)
class Awaited:
    """What of the catalogue a published report waits for: a unit, or a plan, or (both None) its province."""

    unit: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True)
class Catalogued:
    """What the addressees need of the catalogue: the province's operator contacts, the plan's units."""

    operators: Sequence[ContactV1] = ()
    units: Sequence[UnitV1] = ()


async def report_published(
    uow: NotifyUnitOfWork, report: ConsolidatedReportV1, *, cause: Cause, national_contacts: Sequence[ContactV1]
) -> int:
    """A published report: to each contact of each addressee of its Nơi nhận, mails with the signed PDF attached
    (an older report, without addressees: the national standing office). It waits for the province, plan or
    unit its addressees need that the catalogue does not know yet."""
    pdf = await _signed_pdf(uow, report)
    addressees = addressees_of(report.addressees)
    found = await _catalogued(uow, report, {addressee.reach for addressee in addressees})
    if isinstance(found, Awaited):
        return await wait(uow, cause, report, unit=found.unit, plan_id=found.plan_id)
    about = {
        "province_name": report.province_name, "period": report.period, "number": report.number,
        "at": report.published_at or report.approved_at, "tz": (await uow.catalog.place(report.province)).timezone,
        "document": pdf.filename if pdf else None,
        "link": cause.report_page(report.province, report.period, report.plan_id),
    }  # fmt: skip
    where = {"province": report.province, "plan_id": report.plan_id, "period": report.period}
    deliveries = []
    for recipient in addressed(addressees, national=national_contacts, operators=found.operators, units=found.units):
        attached = recipient.contact.channel == "email"  # elsewhere the link stands for the attachment
        message = render("report_published", addressee=recipient.label, attached=attached, **about)
        deliveries.append(
            pending(
                cause, recipient.contact, message, **where, unit=recipient.unit, label=recipient.label, document=pdf
            )
        )
    return await uow.deliveries.add_once(deliveries)


async def _signed_pdf(uow: NotifyUnitOfWork, report: ConsolidatedReportV1) -> DocumentRefV1 | None:
    """The report's signed PDF, whose bytes notify holds: its document_issued came earlier on the same partition.

    Without them the handling fails, rather than mail the report without its attachment: the consumer retries,
    then dead-letters the report, which an operator replays once the document is kept."""
    pdf = signed_pdf(report.documents)
    if pdf is not None and not await uow.documents.has(pdf.sha256):
        raise DocumentNotKept(sha256=pdf.sha256)
    return pdf


async def _catalogued(
    uow: NotifyUnitOfWork, report: ConsolidatedReportV1, reaches: Collection[str]
) -> Catalogued | Awaited:
    """The province's operators and the plan's units (in its order), as far as the addressees reach them; or
    the first of them the catalogue does not know."""
    province, operators = report.province, ()
    if "operators" in reaches:
        found = await _looked_up(uow, province, Awaited(), functools.partial(uow.catalog.province, province))
        if found is None:
            return Awaited()
        operators = found.operator_contacts
    if "units" not in reaches:
        return Catalogued(operators=operators)
    plan_id = report.plan_id
    plan = await _looked_up(
        uow, province, Awaited(plan_id=plan_id), functools.partial(uow.catalog.plan, province, plan_id)
    )
    if plan is None:
        return Awaited(plan_id=plan_id)
    known = await uow.catalog.units_named(province, plan.units)
    for code in [code for code in plan.units if code not in known]:
        unit = await _looked_up(uow, province, Awaited(unit=code), functools.partial(uow.catalog.unit, province, code))
        if unit is None:
            return Awaited(unit=code)
        known[code] = unit
    return Catalogued(operators=operators, units=[known[code] for code in plan.units])


async def _looked_up(
    uow: NotifyUnitOfWork, province: str, awaited: Awaited, lookup: Callable[[], Awaitable[T | None]]
) -> T | None:
    """What `lookup` finds in the catalogue. When it finds nothing it looks again holding the lock that the upsert
    of that unit, plan or province takes to release the notices waiting for it: either this sees it, or that
    upsert sees this report waiting."""
    found = await lookup()
    if found is None:
        await uow.waiting.hold(province, awaited.unit, plan_id=awaited.plan_id)
        found = await lookup()
    return found
