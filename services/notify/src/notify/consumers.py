"""Who reacts to what: the one map from event type to use case, for the `notify` consumer group.

A notice that waited for the catalogue is delivered, once released, by the use case this map gives its type.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events import CloudEvent, parse_data, topics
from baocao_shared.events.catalog import ACCOUNT_ACCESS_CHANGED, PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import (
    DEADLINE_MISSED,
    ESCALATION_RAISED,
    NATIONAL_ESCALATION_RAISED,
    NUDGE_REQUESTED,
    PROVINCE_DEADLINE_MISSED,
    PROVINCE_NUDGE_REQUESTED,
    PROVINCE_REMINDER_DUE,
    REMINDER_DUE,
)
from baocao_shared.events.reports import (
    REPORT_ACCEPTED,
    REPORT_APPROVED,
    REPORT_DOCUMENT_ISSUED,
    REPORT_PUBLISHED,
    REPORT_RETURNED,
)
from baocao_shared.messaging.handlers import Handler, typed_handler
from baocao_shared.runtime import ConsumerSpec
from baocao_shared.token_access import record_access_changed
from notify.adapters.uow import NotifyUnitOfWork
from notify.config import Settings
from notify.handlers import catalog, documents, notices, published

GROUP = "notify"


def notice_use_cases(settings: Settings) -> notices.Notices:
    """Who is told of which notice: the use case of each notice type, and the links its messages carry."""
    # Links in messages are for people: each service at its public address.
    links = {name: settings.public_url(name) for name in {*settings.service_urls, *settings.public_urls}}
    return notices.Notices(
        use_cases={
            REMINDER_DUE.type: notices.unit_notice,
            DEADLINE_MISSED.type: notices.unit_notice,
            NUDGE_REQUESTED.type: notices.unit_notice,
            ESCALATION_RAISED.type: notices.escalation,
            # The national level: a province's report to the national office (its operators are told), and the
            # digest of the provinces missing (the national standing office is).
            PROVINCE_REMINDER_DUE.type: notices.province_notice,
            PROVINCE_DEADLINE_MISSED.type: notices.province_notice,
            PROVINCE_NUDGE_REQUESTED.type: notices.province_notice,
            NATIONAL_ESCALATION_RAISED.type: _bound(
                notices.national_escalation, national_contacts=settings.national_contacts
            ),
            REPORT_APPROVED.type: notices.report_approved,
            REPORT_RETURNED.type: notices.report_returned,
            REPORT_ACCEPTED.type: notices.report_accepted,
            REPORT_PUBLISHED.type: _bound(published.report_published, national_contacts=settings.national_contacts),
        },
        service_urls=links,
    )


def consumer(settings: Settings) -> ConsumerSpec:
    told = notice_use_cases(settings)

    def caused(use_case: Callable[..., Awaitable[Any]]) -> Handler:
        """Adapt a notice's use case, which needs the causing event's id and type besides its typed data."""

        async def handle(session: AsyncSession, event: CloudEvent) -> None:
            await use_case(NotifyUnitOfWork(session), parse_data(event), cause=told.cause(event.id, event.type))

        handle.__name__ = use_case.__name__
        return handle

    handlers = {
        # A province, unit or plan that arrives releases the notices that waited for it.
        PROVINCE_UPSERTED.type: typed_handler(_bound(catalog.province_upserted, notices=told), uow=NotifyUnitOfWork),
        UNIT_UPSERTED.type: typed_handler(_bound(catalog.unit_upserted, notices=told), uow=NotifyUnitOfWork),
        PLAN_UPSERTED.type: typed_handler(_bound(catalog.plan_upserted, notices=told), uow=NotifyUnitOfWork),
        ACCOUNT_ACCESS_CHANGED.type: typed_handler(record_access_changed),  # a revoked token stops working here
        # The signed PDF, just before its report.published: kept for the mails that attach it.
        REPORT_DOCUMENT_ISSUED.type: typed_handler(documents.document_issued, uow=NotifyUnitOfWork),
        **{event_type: caused(use_case) for event_type, use_case in told.use_cases.items()},
    }
    return ConsumerSpec(group_id=GROUP, topics=[topics.CATALOG, topics.DEADLINES, topics.REPORTS], handlers=handlers)


def _bound(use_case: Callable[..., Awaitable[Any]], **settled: Any) -> Callable[..., Awaitable[Any]]:
    """The use case with keyword arguments settled at start (the links, the national office), under its name."""
    return functools.update_wrapper(functools.partial(use_case, **settled), use_case)
