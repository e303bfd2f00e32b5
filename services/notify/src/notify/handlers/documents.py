"""Keep the documents frozen at publishing (report.document_issued): the signed PDF that the published report's
mails attach. Each comes just before its report.published, under the same key."""

from __future__ import annotations

import structlog

from baocao_shared.events.reports import DocumentIssuedV1
from notify.adapters.uow import NotifyUnitOfWork
from notify.domain.documents import issued

log = structlog.get_logger(__name__)


async def document_issued(uow: NotifyUnitOfWork, event: DocumentIssuedV1) -> None:
    """Keep the document's bytes by their SHA-256, once (refused when they are not what the event announces)."""
    document = issued(event)
    if await uow.documents.keep(document):
        log.info(
            "document.kept",
            sha256=document.sha256, province=document.province, period=document.period, kind=document.kind,
            size=document.size,
        )  # fmt: skip
