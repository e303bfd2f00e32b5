"""The documents frozen at publishing (pure): what a press gives back, and the port the use case asks for one.

At publish the DOCX and the signed PDF are rendered once; their bytes and SHA-256 are stored, and every
later download returns exactly those bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from baocao_shared.events.reports import ConsolidatedReportV1, DocumentRefV1

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class FrozenDocument:
    kind: str  # pdf | docx
    media_type: str
    filename: str
    body: bytes
    signed_by: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def ref(self) -> DocumentRefV1:
        return DocumentRefV1(
            kind=self.kind, media_type=self.media_type, filename=self.filename, sha256=self.sha256, size=len(self.body)
        )


class DocumentPress(Protocol):
    """Renders a report's documents; `freeze` also signs the PDF with the issuing body's key (or raises
    a named error saying why it cannot). `history`: the report is of a period before tracking, its figures
    the office's import (the document says so)."""

    def freeze(
        self, report: ConsolidatedReportV1, *, issued_on: date, history: bool = False
    ) -> list[FrozenDocument]: ...

    def draft_pdf(self, report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> bytes: ...

    def verify(self, pdf: bytes) -> Any:
        """What a PDF's signature says, validated against the trusted roots (a Verdict)."""


def filename(report: ConsolidatedReportV1, extension: str) -> str:
    """bao-cao-30-2019-06.pdf; a published one carries its number: bao-cao-30-2019-06-so-3.pdf."""
    number = f"-so-{report.number.split('/')[0]}" if report.number else ""
    return f"bao-cao-{report.province}-{report.period}{number}.{extension}"
