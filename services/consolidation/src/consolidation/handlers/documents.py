"""The documents frozen at publishing: the bytes a download returns, and which document a file is.

A published report's DOCX and PDF are the stored bytes, never rendered again; before publishing they are
rendered from the report as it stands (the PDF as an unsigned draft).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from baocao_shared.events.reports import ConsolidatedReportV1
from consolidation.adapters.documents import StoredDocument
from consolidation.adapters.uow import ConsolidationUnitOfWork
from consolidation.domain.errors import DocumentNotFound
from consolidation.domain.workflow import SENT_UP


async def frozen(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1, kind: str) -> StoredDocument | None:
    """The stored document of `kind` a published report went up with (None before publishing)."""
    if report.status not in SENT_UP:
        return None
    ref = next((d for d in report.documents if d.kind == kind), None)
    return None if ref is None else await uow.documents.find(ref.sha256, body=True)


async def earlier(uow: ConsolidationUnitOfWork, report: ConsolidatedReportV1) -> list[StoredDocument]:
    """The documents the report went up with before (returned or reopened, then published again), oldest first;
    they stay in the register and `identify` still names them."""
    issued = await uow.documents.issued_for(report.province, report.plan_id, report.period)
    return [d for d in issued if d.number != report.number]


async def identify(uow: ConsolidationUnitOfWork, *, sha256: str) -> StoredDocument:
    """Which published document has this SHA-256."""
    found = await uow.documents.find(sha256.lower())
    if found is None:
        raise DocumentNotFound(sha256=sha256)
    return found


@dataclass(frozen=True)
class Examination:
    """What an uploaded file is: the published document it is byte for byte (or None), and what its
    signature says (pyHanko's validation, when it is a PDF)."""

    sha256: str
    size: int
    document: StoredDocument | None
    signature: Any | None
    province_name: str | None = None


async def examine(uow: ConsolidationUnitOfWork, *, body: bytes, verify) -> Examination:
    """Compare an uploaded file with the register's documents and validate its signature."""
    sha256 = hashlib.sha256(body).hexdigest()
    document = await uow.documents.find(sha256)
    signature = await asyncio.to_thread(verify, body) if body[:5] == b"%PDF-" else None
    place = await uow.catalogue.province(document.province) if document else None
    return Examination(
        sha256=sha256, size=len(body), document=document, signature=signature, province_name=place and place.name
    )
