"""consolidation's unit of work: one transaction with the repositories over it, and the outbox and audit
trail that commit with the state change (baocao_shared.uow)."""

from __future__ import annotations

from baocao_shared.uow import UnitOfWork
from consolidation.adapters import orm
from consolidation.adapters.catalogue import Catalogue
from consolidation.adapters.documents import Documents, Register
from consolidation.adapters.obligations import Obligations
from consolidation.adapters.reports import Reports
from consolidation.adapters.sections import Sections
from consolidation.adapters.unit_reports import UnitReports


class ConsolidationUnitOfWork(UnitOfWork):
    source = "/baocao/consolidation"
    outbox_table = orm.outbox
    audit_table = orm.audit_log

    catalogue: Catalogue
    unit_reports: UnitReports
    obligations: Obligations
    reports: Reports
    sections: Sections
    register: Register
    documents: Documents
