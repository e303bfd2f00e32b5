"""A service's append-only audit trail (`audit_log`): recording a row with the change it records, and reading
it newest first, a page at a time (GET /v1/audit, baocao_shared.http.audit).

Every service that keeps an audit trail keeps the same five facts a row: when, who, what, on which subject, and
the details. The province a row concerns is derived by the database from what the row holds (a generated column,
`PROVINCE_OF_ROW`): the province of the subject `period:30.plan.2019-06`, `unit:30.CA`, `report:30.plan.2019-06`,
`province:30`, else `details.province` (a submission, an account). Rows of no province (an admin's account, the demo
accounts) are read only by those who read every province.

    await record_audit(session, orm.audit_log, at=now, actor=principal.subject, action="report.published",
                       subject="report:30.hd-467-2019.2019-06", details={"revision": 3})   # in the change's transaction

The API over it is `baocao_shared.http.audit.audit_router`.

Who reads: admins and the national office every province (and the rows of none); a province operator their own
province only, and must name it; reporters nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, Computed, DateTime, Index, MetaData, String, Table, Text, and_, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from baocao_shared.errors import Forbidden, Unprocessable
from baocao_shared.principal import Principal, Role

# The SQL of the generated column audit_log.province (a migration adds it; the ORM declares it Computed).
PROVINCE_OF_ROW = (
    "CASE WHEN subject ~ '^(period|unit|report|province):' "
    "THEN split_part(split_part(subject, ':', 2), '.', 1) ELSE details ->> 'province' END"
)
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4]|H[12]|Y)$"


class AuditEntry(BaseModel):
    id: int = Field(description="Order of recording; a page's last id is the next page's `before`")
    at: datetime
    actor: str = Field(description="Who did it (a username, or `system`)")
    action: str = Field(examples=["submission.amended"])
    subject: str = Field(examples=["submission:5b0c…", "report:30.hd-467-2019.2019-06"])
    province: str | None = Field(description="The province the row concerns; none for an admin's own accounts")
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry] = Field(description="Newest first")
    next_before: int | None = Field(description="Ask again with `before=` this for the older rows; null at the end")


def readable_province(principal: Principal, province: str | None) -> str | None:
    """The province the caller reads the audit of (None: every province), or Forbidden / Unprocessable."""
    if principal.role in (Role.ADMIN, Role.NATIONAL_OPERATOR):
        return province
    if principal.role is not Role.PROVINCE_OPERATOR:
        raise Forbidden("The audit trail is for the province's operators, the national office and admins.")
    if province is None:
        raise Unprocessable(
            "Name the province.",
            [{"field": "province", "message": f"a province operator reads province {principal.province}"}],
        )
    if province != principal.province:
        raise Forbidden(f"A province operator reads the audit trail of province {principal.province} only.")
    return province


def audit_log_table(metadata: MetaData) -> Table:
    """The trail's table in a service's metadata (baocao_shared.migrations.create_audit_log creates it)."""
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(80), nullable=False),
        Column("action", String(60), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("details", JSONB, nullable=False),
        Column("province", Text, Computed(PROVINCE_OF_ROW, persisted=True)),  # derived by PostgreSQL from the row
        Index("ix_audit_log_subject", "subject"),
        Index("ix_audit_log_province_id", "province", "id"),
    )


async def record_audit(
    db: AsyncSession | AsyncConnection,
    table: Table,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
) -> None:
    """One row of the trail, in the caller's transaction: it commits with the change it records, or not at all."""
    await db.execute(
        table.insert(), {"at": at, "actor": actor, "action": action, "subject": subject, "details": details}
    )


async def read_audit(
    session: AsyncSession,
    table: Table,
    *,
    province: str | None,
    subject: str | None = None,
    period: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of the trail, newest first; `province` None reads every province (authorization is the caller's)."""
    c = table.c
    wanted = []
    if province is not None:
        wanted.append(c.province == province)
    if subject is not None:
        wanted.append(c.subject == subject)
    if period is not None:  # a submission names its period in details; periods and reports end their subject with it
        wanted.append(or_(c.details["period"].astext == period, c.subject.like(f"%.{period}")))
    if action is not None:
        wanted.append(c.action == action)
    if since is not None:
        wanted.append(c.at >= since)
    if until is not None:
        wanted.append(c.at < until)
    if before is not None:
        wanted.append(c.id < before)
    rows = await session.execute(
        select(c.id, c.at, c.actor, c.action, c.subject, c.province, c.details)
        .where(and_(True, *wanted))
        .order_by(c.id.desc())
        .limit(limit + 1)
    )
    items = [AuditEntry(**row._mapping) for row in rows]
    more = len(items) > limit
    items = items[:limit]
    return AuditPage(items=items, next_before=items[-1].id if more else None)
