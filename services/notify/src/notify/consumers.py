"""Who reacts to what: the one map from event type to use case, for the `notify` consumer group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.events import CloudEvent, parse_data, topics
from baocao_shared.events.catalog import PLAN_UPSERTED, PROVINCE_UPSERTED, UNIT_UPSERTED
from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, NUDGE_REQUESTED, REMINDER_DUE
from baocao_shared.events.reports import REPORT_APPROVED, REPORT_PUBLISHED
from baocao_shared.messaging.consumer import Handler, typed_handler
from baocao_shared.runtime import ConsumerSpec
from notify.config import Settings
from notify.handlers import catalog, notices

GROUP = "notify"


def consumer(settings: Settings) -> ConsumerSpec:
    # Links in messages are for people: each service at its public address.
    links = {name: settings.public_url(name) for name in {*settings.service_urls, *settings.public_urls}}

    def caused(use_case: Callable[..., Awaitable[Any]], **extra: Any) -> Handler:
        """Adapt a use case that needs the causing event's id and type besides its typed data."""

        async def handle(session: AsyncSession, event: CloudEvent) -> None:
            cause = notices.Cause(event_id=event.id, event_type=event.type, service_urls=links)
            await use_case(session, parse_data(event), cause=cause, **extra)

        handle.__name__ = use_case.__name__
        return handle

    def releasing(use_case: Callable[..., Awaitable[Any]]) -> Handler:
        """Adapt a catalogue use case that also releases the notices waiting for what it stores."""

        async def handle(session: AsyncSession, event: CloudEvent) -> None:
            await use_case(session, parse_data(event), service_urls=links)

        handle.__name__ = use_case.__name__
        return handle

    handlers = {
        PROVINCE_UPSERTED.type: releasing(catalog.province_upserted),
        UNIT_UPSERTED.type: releasing(catalog.unit_upserted),
        PLAN_UPSERTED.type: typed_handler(catalog.plan_upserted),
        REMINDER_DUE.type: caused(notices.unit_notice),
        DEADLINE_MISSED.type: caused(notices.unit_notice),
        NUDGE_REQUESTED.type: caused(notices.unit_notice),
        ESCALATION_RAISED.type: caused(notices.escalation),
        REPORT_APPROVED.type: caused(notices.report_approved),
        REPORT_PUBLISHED.type: caused(notices.report_published, national_contacts=settings.national_contacts),
    }
    return ConsumerSpec(group_id=GROUP, topics=[topics.CATALOG, topics.DEADLINES, topics.REPORTS], handlers=handlers)
