"""Use case of the audit trail's page (Nhật ký): who reads which province's rows."""

from __future__ import annotations

from baocao_shared.audit import PAGE_SIZE, AuditPage
from baocao_shared.principal import Principal, Role
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.account_errors import AuditTrailForbidden


async def trail_page(
    uow: IntakeUnitOfWork, *, principal: Principal, before: int | None
) -> tuple[AuditPage, str | None]:
    """A page of the trail, newest first, and the province it covers: a province operator's own, else every one."""
    if principal.role is Role.REPORTER:
        raise AuditTrailForbidden()
    province = principal.province if principal.role is Role.PROVINCE_OPERATOR else None
    return await uow.audit_trail(province=province, before=before, limit=PAGE_SIZE), province
