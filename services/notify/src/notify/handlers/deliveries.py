"""The deliveries of a province as its overseers follow them (thông báo đã gửi), and sending one again.

Who may read them is decided here once, for the API and the pages: the province's operators, the national
office and admins (`Principal.oversees`), never a unit's reporter. Only a failed delivery goes back to the
sender (gửi lại), asked by the province's own operators or an admin, its attempts counted from zero and due
at once. The caller owns the transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from baocao_shared.principal import Principal, Role
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.delivery import STATUSES, Delivery, Filters
from notify.domain.errors import (
    DeliveriesNotVisible,
    DeliveryNotFound,
    NotAProvinceCode,
    NotResendable,
    ResendNotAllowed,
)
from notify.domain.places import Place

log = structlog.get_logger(__name__)
PROVINCE_CODE = re.compile(r"\d{2}")


def may_resend(principal: Principal, province: str) -> bool:
    """Sending again is the province's own operators' (and admins') decision, not the national office's."""
    return principal.may_operate_province(province)


def _check_oversees(principal: Principal, province: str) -> None:
    if not principal.oversees(province):
        raise DeliveriesNotVisible(province=province)


def _check_oversees_some(principal: Principal) -> None:
    """A unit's reporter oversees no province: refused before anything is looked up, not even whether it exists."""
    if principal.role is Role.REPORTER:
        raise DeliveriesNotVisible(province=None)


async def find(
    uow: NotifyUnitOfWork,
    *,
    principal: Principal,
    filters: Filters,
    limit: int,
    offset: int = 0,
    newest_first: bool = True,
) -> list[Delivery]:
    """The province's deliveries that pass `filters`, newest first (or oldest first, as the v1 API lists them)."""
    _check_oversees(principal, filters.province)
    return await uow.deliveries.find(filters, limit=limit, offset=offset, newest_first=newest_first)


@dataclass(frozen=True)
class Choices:
    """What the filters of a province's deliveries can pick from: periods newest first, units by code."""

    periods: list[str]
    units: list[tuple[str, str]]  # (code, name)


@dataclass(frozen=True)
class Overview:
    """A page of a province's deliveries: the place, the counts per status, the rows and the filters' choices."""

    place: Place
    by_status: dict[str, int]  # every status, the status filter aside
    rows: list[Delivery]
    choices: Choices
    may_resend: bool


async def overview(
    uow: NotifyUnitOfWork, *, principal: Principal, filters: Filters, limit: int, offset: int = 0
) -> Overview:
    """What the deliveries page shows of one province, newest first."""
    _check_oversees(principal, filters.province)
    if not PROVINCE_CODE.fullmatch(filters.province):
        raise NotAProvinceCode(province=filters.province)
    place = await uow.catalog.place(filters.province)
    found = await uow.deliveries.count_by_status(filters)
    rows = await uow.deliveries.find(filters, limit=limit, offset=offset)
    return Overview(
        place=place,
        by_status={status: found.get(status, 0) for status in STATUSES},
        rows=rows,
        choices=await _choices(uow, filters.province),
        may_resend=may_resend(principal, filters.province),
    )


async def _choices(uow: NotifyUnitOfWork, province: str) -> Choices:
    """The periods and units that a province's deliveries name, with the units' names from the catalogue."""
    periods = await uow.deliveries.periods(province)
    units = await uow.deliveries.units(province)
    names = await uow.catalog.unit_names(province)
    return Choices(
        periods=sorted(periods, reverse=True),
        units=[(code, names.get(code, code)) for code in sorted(units)],
    )


@dataclass(frozen=True)
class Detail:
    delivery: Delivery
    place: Place
    unit_names: dict[str, str]
    may_resend: bool


async def detail(uow: NotifyUnitOfWork, *, principal: Principal, delivery_id: uuid.UUID | None) -> Detail:
    """One delivery as its province's overseers read it; `delivery_id` None: the address named no id."""
    _check_oversees_some(principal)
    found = await uow.deliveries.get(delivery_id) if delivery_id else None
    if found is None:
        raise DeliveryNotFound(delivery_id=delivery_id)
    _check_oversees(principal, found.province)
    return Detail(
        delivery=found,
        place=await uow.catalog.place(found.province),
        unit_names=await uow.catalog.unit_names(found.province),
        may_resend=may_resend(principal, found.province),
    )


async def provinces(uow: NotifyUnitOfWork, *, principal: Principal) -> list[tuple[str, str]]:
    """(code, name) of every province in the catalogue or with deliveries, by code: the national reader's pick."""
    _check_oversees_some(principal)
    named = await uow.catalog.province_names()
    codes = sorted({*named, *await uow.deliveries.provinces()})
    return [(code, named.get(code) or f"Tỉnh mã {code}") for code in codes]


async def resend(uow: NotifyUnitOfWork, *, principal: Principal, delivery_id: uuid.UUID, now: datetime) -> Delivery:
    """Put a failed delivery back in the sender's queue: pending, no attempts yet, due `now`."""
    found = await uow.deliveries.get(delivery_id, for_update=True)
    if found is None:
        raise DeliveryNotFound(delivery_id=delivery_id)
    if not may_resend(principal, found.province):
        raise ResendNotAllowed(province=found.province)
    if found.status != "failed":
        raise NotResendable(status=found.status)
    again = await uow.deliveries.requeue(delivery_id, now=now)
    log.info("delivery.resend", delivery_id=str(delivery_id), by=principal.subject, previous_error=found.last_error)
    return again
