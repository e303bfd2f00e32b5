"""GET /v1/audit over a service's audit trail (baocao_shared.audit): newest first, a page at a time.

    app = build_service_app(..., routers=[..., audit_router(orm.audit_log, principal=get_principal)])

Who reads: admins and the national office every province (and the rows of none); a province operator their own
province only, and must name it; reporters nothing.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route's Annotated dependencies at import.

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Table

from baocao_shared.audit import MAX_PAGE_SIZE, PAGE_SIZE, PERIOD, AuditPage, read_audit, readable_province
from baocao_shared.errors import Unprocessable
from baocao_shared.http.deps import Db, PrincipalDependency
from baocao_shared.http.errors import error_responses
from baocao_shared.principal import Principal


def _utc(instant: datetime | None, field: str) -> datetime | None:
    """An instant in UTC (one without an offset is read as UTC); 422 when it is outside the calendar in UTC."""
    if instant is None:
        return None
    try:
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Unprocessable("The instant is out of range.", [{"field": field, "message": "out of range"}]) from None


def audit_router(table: Table, *, principal: PrincipalDependency, path: str = "/v1/audit") -> APIRouter:
    """GET `path` over `table`, the caller found by `principal` (the service's own authentication).

    Behind one origin (deploy/proxy/Caddyfile routes by path) each service's trail needs a path of its own:
    intake's is /v1/audit, consolidation's /v1/reports/audit."""
    router = APIRouter(prefix=path, tags=["audit"])

    @router.get(
        "",
        response_model=AuditPage,
        responses=error_responses(403, 422),
        summary="The audit trail, newest first (province operators: their own province)",
    )
    async def get_audit(
        caller: Annotated[Principal, Depends(principal)],
        session: Db,
        province: Annotated[
            str | None, Query(pattern=r"^\d{2}$", description="Needed unless admin or national office")
        ] = None,
        subject: Annotated[str | None, Query(max_length=200, examples=["report:30.hd-467-2019.2019-06"])] = None,
        period: Annotated[str | None, Query(pattern=PERIOD, examples=["2019-06"])] = None,
        action: Annotated[str | None, Query(max_length=60, examples=["report.published"])] = None,
        since: Annotated[datetime | None, Query(description="From this instant (inclusive)")] = None,
        until: Annotated[datetime | None, Query(description="Before this instant")] = None,
        before: Annotated[int | None, Query(ge=1, le=2**62, description="The previous page's `next_before`")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    ) -> AuditPage:
        readable = readable_province(caller, province)
        since, until = _utc(since, "since"), _utc(until, "until")
        async with session.begin():
            return await read_audit(
                session,
                table,
                province=readable,
                subject=subject,
                period=period,
                action=action,
                since=since,
                until=until,
                before=before,
                limit=limit,
            )

    return router
