"""intake's unit of work: one transaction of its database, with a repository per aggregate over it; the
outbox and the audit trail commit with the change they record."""

from __future__ import annotations

from baocao_shared.audit import AuditPage, read_audit
from baocao_shared.token_access import AccountAccessRepository
from baocao_shared.uow import UnitOfWork
from intake.adapters import orm
from intake.adapters.accounts import AccountRepository, LoginFailures
from intake.adapters.api_tokens import ApiTokenRepository
from intake.adapters.catalog import CatalogRepository
from intake.adapters.exceptions import PeriodExceptions
from intake.adapters.idempotency import IdempotencyKeys
from intake.adapters.locks import PeriodLocks
from intake.adapters.submissions import SubmissionRepository


class IntakeUnitOfWork(UnitOfWork):
    source = "/baocao/intake"
    outbox_table = orm.outbox
    audit_table = orm.audit_log

    catalog: CatalogRepository
    submissions: SubmissionRepository
    locks: PeriodLocks
    exceptions: PeriodExceptions
    idempotency: IdempotencyKeys
    accounts: AccountRepository
    login_failures: LoginFailures
    api_tokens: ApiTokenRepository
    account_access: AccountAccessRepository  # when each account's tokens are good from

    async def audit_trail(self, *, province: str | None, before: int | None, limit: int) -> AuditPage:
        """A page of intake's audit trail, newest first (`province` None: every province)."""
        return await read_audit(self.session, orm.audit_log, province=province, before=before, limit=limit)
