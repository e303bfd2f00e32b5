"""A document frozen at publishing (văn bản đã ký số), as notify keeps it to attach to mails (pure, no I/O).

consolidation sends each document's bytes in report.document_issued, just before report.published under the
same key; notify keeps them by their SHA-256, which report.published's `documents` name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from baocao_shared.events.reports import DocumentIssuedV1, DocumentRefV1
from notify.domain.errors import DocumentDoesNotMatch


@dataclass(frozen=True)
class Document:
    sha256: str
    province: str
    plan_id: str
    period: str
    number: str
    kind: str  # pdf | docx
    media_type: str
    filename: str
    size: int
    content: bytes


def issued(event: DocumentIssuedV1) -> Document:
    """The document an event carries, its bytes checked against the digest and size it announces."""
    try:
        content = base64.b64decode(event.content_base64, validate=True)
    except binascii.Error:
        raise DocumentDoesNotMatch(sha256=event.sha256, why="its content is not base64") from None
    if hashlib.sha256(content).hexdigest() != event.sha256:
        raise DocumentDoesNotMatch(sha256=event.sha256, why="its bytes have another SHA-256")
    if len(content) != event.size:
        raise DocumentDoesNotMatch(sha256=event.sha256, why=f"it has {len(content)} bytes, not {event.size}")
    return Document(
        sha256=event.sha256, province=event.province, plan_id=event.plan_id, period=event.period,
        number=event.number, kind=event.kind, media_type=event.media_type, filename=event.filename,
        size=event.size, content=content,
    )  # fmt: skip


def signed_pdf(documents: Sequence[DocumentRefV1]) -> DocumentRefV1 | None:
    """The signed PDF among a published report's documents: the one a mail attaches (None: an older report)."""
    return next((document for document in documents if document.kind == "pdf"), None)
