"""The press: a report's DOCX and PDF, the PDF signed (PAdES) with the issuing body's key at publishing.

The key is a PKCS#12 file per issuing body (`signing_pkcs12`, which may name `{province}`) opened with a
secret passphrase (`signing_passphrase`); neither is in the catalogue or on Kafka. A draft PDF is never
signed: it carries DỰ THẢO on every page.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from baocao_shared.events.reports import ConsolidatedReportV1
from consolidation.config import Settings
from consolidation.domain.documents import DOCX, PDF, FrozenDocument, filename

if TYPE_CHECKING:
    from consolidation.adapters.signing import Verdict

# The renderers (python-docx, reportlab) and pyHanko load on first use, not at start-up: together ~60 MB that an
# idle service holds for nothing (its RSS went from 123 to 160 MB when they came, over the 150 MB target).


class Press:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def freeze(self, report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> list[FrozenDocument]:
        """The signed PDF and the DOCX of a report being published (its number set); `history`: of a period
        before tracking (report_text)."""
        from consolidation.adapters.docx_report import render_docx
        from consolidation.adapters.pdf_report import render_pdf
        from consolidation.adapters.signing import load_signer, sign_pdf

        passphrase = self.settings.signing_passphrase
        signer = load_signer(
            (self.settings.signing_pkcs12 or "").format(province=report.province) or None,
            passphrase.get_secret_value() if passphrase else None,
            province=report.province,
        )
        pdf = sign_pdf(
            render_pdf(report, issued_on=issued_on, history=history),
            signer,
            reason=f"Phát hành Báo cáo số {report.number}",
            location=report.place_name,
        )
        return [
            FrozenDocument("pdf", PDF, filename(report, "pdf"), pdf, signed_by=signer.subject),
            FrozenDocument(
                "docx", DOCX, filename(report, "docx"), render_docx(report, issued_on=issued_on, history=history)
            ),
        ]

    def draft_pdf(self, report: ConsolidatedReportV1, *, issued_on: date, history: bool = False) -> bytes:
        from consolidation.adapters.pdf_report import render_pdf

        return render_pdf(report, issued_on=issued_on, history=history)

    def verify(self, pdf: bytes) -> Verdict:
        """The PDF's signature, validated against the CAs of `signing_trust_roots`."""
        from consolidation.adapters.signing import verify_pdf

        roots = [self.settings.signing_trust_roots] if self.settings.signing_trust_roots else []
        return verify_pdf(pdf, trust_roots=roots)
