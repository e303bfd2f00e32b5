"""HTTP adapter of notify: the deliveries of a province and the caller's in-app inbox (v1 contract)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared.auth import Principal, Role, current_principal
from baocao_shared.errors import Forbidden
from notify.adapters import orm

router = APIRouter(tags=["notifications"])


async def db_session(request: Request):
    async with request.app.state.runtime.sessionmaker() as session:
        yield session


Db = Annotated[AsyncSession, Depends(db_session)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class Delivery(BaseModel):
    id: uuid.UUID
    channel: str = Field(description="email | webhook | inbox")
    recipient: str
    subject: str
    status: str = Field(description="pending | sent | failed")
    attempts: int
    cause_event_id: uuid.UUID
    cause_type: str
    province: str
    period: str | None
    unit: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class InboxMessage(BaseModel):
    id: uuid.UUID
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


@router.get("/v1/deliveries", response_model=list[Delivery], summary="Every message sent about a province")
async def list_deliveries(
    principal: CurrentPrincipal,
    db: Db,
    province: Annotated[str, Query(pattern=r"^\d{2}$", examples=["30"])],
    period: Annotated[str | None, Query(max_length=10, examples=["2019-06"])] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
):
    if principal.role is Role.REPORTER or not principal.may_read_province(province):
        raise Forbidden("Deliveries of a province are for its operators and the national office.")
    d = orm.deliveries
    query = select(d).where(d.c.province == province)
    if period:
        query = query.where(d.c.period == period)
    if unit:
        query = query.where(d.c.unit == unit)
    rows = await db.execute(query.order_by(d.c.created_at, d.c.id).limit(limit))
    return [Delivery.model_validate(row, from_attributes=True) for row in rows]


@router.get("/v1/inbox", response_model=list[InboxMessage], summary="The caller's in-app messages, newest first")
async def list_inbox(
    principal: CurrentPrincipal,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    m = orm.inbox_messages
    rows = await db.execute(
        select(m).where(m.c.recipient == principal.subject).order_by(m.c.created_at.desc()).limit(limit)
    )
    return [InboxMessage.model_validate(row, from_attributes=True) for row in rows]
