"""HTTP adapter of notify: the deliveries of a province and the caller's in-app inbox (v1 contract)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from baocao_shared.http.deps import CurrentPrincipal
from baocao_shared.http.errors import error_responses
from notify.deps import Uow, WallNow
from notify.domain.delivery import Channel, DeliveryStatus, Filters
from notify.handlers import deliveries as delivery_cases
from notify.handlers import inbox as inbox_cases

router = APIRouter(tags=["notifications"])


class Delivery(BaseModel):
    id: uuid.UUID
    channel: Channel
    recipient: str
    recipient_label: str | None = Field(
        None, description="Whom the recipient is: a line of Nơi nhận, a unit, the province's staff office"
    )
    subject: str
    status: DeliveryStatus
    attempts: int
    cause_event_id: uuid.UUID
    cause_type: str
    province: str
    period: str | None
    unit: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    document_filename: str | None = Field(
        None, description="The signed document it carries: attached to an email, linked from inbox and webhook"
    )
    document_sha256: str | None = None


class InboxMessage(BaseModel):
    id: uuid.UUID
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


@router.get(
    "/v1/deliveries",
    response_model=list[Delivery],
    responses=error_responses(403),
    summary="Every message sent about a province",
)
async def list_deliveries(
    principal: CurrentPrincipal,
    uow: Uow,
    province: Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])],
    period: Annotated[str | None, Query(max_length=10, examples=["2019-06"])] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    status: DeliveryStatus | None = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
):
    filters = Filters(province=province, period=period, status=status, channel=channel, unit=unit)
    async with uow:
        rows = await delivery_cases.find(uow, principal=principal, filters=filters, limit=limit, newest_first=False)
    return [Delivery.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/v1/deliveries/{delivery_id}/resend",
    response_model=Delivery,
    responses=error_responses(403, 404, 409),
    summary="Send a failed delivery again",
    description="The province's operators and admins only. The delivery becomes pending with no attempts and is "
    "due at once; 409 when it is not failed.",
)
async def resend_delivery(delivery_id: uuid.UUID, principal: CurrentPrincipal, uow: Uow, now: WallNow):
    async with uow:
        row = await delivery_cases.resend(uow, principal=principal, delivery_id=delivery_id, now=now)
    return Delivery.model_validate(row, from_attributes=True)


@router.get("/v1/inbox", response_model=list[InboxMessage], summary="The caller's in-app messages, newest first")
async def list_inbox(
    principal: CurrentPrincipal,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    async with uow:
        rows = await inbox_cases.messages(uow, principal=principal, limit=limit)
    return [InboxMessage.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/v1/inbox/{message_id}/read",
    response_model=InboxMessage,
    responses=error_responses(404),
    summary="Mark one of the caller's messages read",
    description="404 for a message that is not the caller's.",
)
async def read_inbox_message(message_id: uuid.UUID, principal: CurrentPrincipal, uow: Uow, now: WallNow):
    async with uow:
        row = await inbox_cases.mark_read(uow, principal=principal, message_id=message_id, now=now)
    return InboxMessage.model_validate(row, from_attributes=True)
