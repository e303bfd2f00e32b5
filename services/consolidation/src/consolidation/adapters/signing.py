"""The issued report's digital signature: PAdES (ETSI.CAdES.detached, SHA-256) with pyHanko, and its check.

    signer = load_signer("/etc/baocao/signing/30.p12", passphrase, province="30")
    signed = sign_pdf(pdf, signer, reason="Ban hành báo cáo", location="Hải Dương")
    verdict = verify_pdf(signed, trust_roots=[ca_pem])   # verdict.valid, verdict.summary

One key file (PKCS#12) per issuing body (BAOCAO_SIGNING_PKCS12, a path that may name {province}). A key
that cannot be used is a `SigningKeyUnavailable` naming what to fix; the passphrase is never logged nor
put in a message. `verify_pdf` never raises on a damaged file: it says the file is not valid. Both are
plain calls, also from async code (pyHanko's coroutines then run on a loop of their own in a worker
thread); they take tens of milliseconds, so a route may prefer `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from asn1crypto.pkcs12 import Pfx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from consolidation.domain.errors import SigningKeyUnavailable
from consolidation.domain.months import TIMEZONE

T = TypeVar("T")
FIELD_NAME = "ChuKySo"  # the signature field pyHanko adds (one per signing)


@dataclass(frozen=True)
class DocumentSigner:
    """An issuing body's key, ready to sign: `subject` is its certificate's holder as the report shows it
    (signed_by), its common name."""

    signer: signers.SimpleSigner
    subject: str
    not_after: datetime


def load_signer(
    pkcs12_path: str | Path | None, passphrase: str | bytes | None, *, province: str = ""
) -> DocumentSigner:
    """The key and certificate of a PKCS#12 file; SigningKeyUnavailable when it cannot be used now
    (no path: not configured)."""
    if not pkcs12_path:
        raise SigningKeyUnavailable(province=province, reason="not_configured")
    path = Path(pkcs12_path)

    def unavailable(reason: str) -> SigningKeyUnavailable:
        return SigningKeyUnavailable(province=province, reason=reason, path=str(path))

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise unavailable("missing_file") from None
    except OSError:
        raise unavailable("unreadable") from None
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, secret or None)
    except (ValueError, TypeError):
        # cryptography says the same for bad data and a bad passphrase: tell them apart by the file's structure.
        if not _is_pkcs12(data):
            raise unavailable("unreadable") from None
        raise unavailable("wrong_passphrase" if secret else "no_passphrase") from None
    if key is None or cert is None:
        raise unavailable("unreadable")
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise unavailable("expired")
    signing_cert, others = _asn1(cert), [_asn1(c) for c in chain]
    registry = SimpleCertificateStore()
    registry.register_multiple(others)
    signer = signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=signers.pdf_cms.translate_pyca_cryptography_key_to_asn1(key),
        cert_registry=registry,
    )
    return DocumentSigner(signer=signer, subject=subject_name(cert), not_after=cert.not_valid_after_utc)


def sign_pdf(pdf: bytes, signer: DocumentSigner, *, reason: str, location: str) -> bytes:
    """`pdf` with a PAdES baseline signature in a new field, covering the whole file (an incremental update)."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=signer.subject,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = _run(signers.PdfSigner(meta, signer.signer).async_sign_pdf(writer, output=io.BytesIO()))
    return out.getvalue()


@dataclass(frozen=True)
class Verdict:
    """What a signed report's check found. `valid`: signed, intact, covering the whole file, and trusted."""

    signed: bool
    intact: bool = False
    covers_whole_file: bool = False
    trusted: bool = False
    signed_by: str | None = None
    signed_at: datetime | None = None
    problem: str | None = None  # why the file could not be checked at all

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.covers_whole_file and self.trusted

    @property
    def summary(self) -> str:
        """One line in Vietnamese, for the page and the operator."""
        if self.problem:
            return f"Chữ ký số không hợp lệ: {self.problem}."
        if not self.signed:
            return "Tệp chưa được ký số."
        if not self.intact:
            return "Chữ ký số không hợp lệ: nội dung tệp đã bị thay đổi sau khi ký."
        if not self.covers_whole_file:
            return "Chữ ký số không bao trùm toàn bộ tệp: có nội dung được thêm vào sau khi ký."
        who = f" của {self.signed_by}" if self.signed_by else ""
        local = self.signed_at.astimezone(ZoneInfo(TIMEZONE)) if self.signed_at else None
        when = f" lúc {local:%H:%M} ngày {local:%d/%m/%Y}" if local else ""
        if not self.trusted:
            return f"Chữ ký số{who}{when} còn nguyên vẹn nhưng chứng thư số không thuộc tổ chức được tin cậy."
        return f"Chữ ký số hợp lệ{who}{when}; nội dung không bị thay đổi."


def verify_pdf(pdf: bytes, *, trust_roots: Iterable[bytes | Path | x509.Certificate]) -> Verdict:
    """Check the file's last signature against `trust_roots`: PEM (or DER) bytes, a PEM file's path (one or
    more certificates each; a file that cannot be read trusts nothing), or cryptography certificates.
    Never raises on a damaged or unsigned file."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # any damage means "not valid", never a crash
        return Verdict(signed=False, problem="tệp PDF bị hỏng, không đọc được")
    if not signatures:
        return Verdict(signed=False)
    embedded = signatures[-1]
    context = ValidationContext(trust_roots=list(_roots(trust_roots)), allow_fetching=False)
    try:
        status = _run(async_validate_pdf_signature(embedded, signer_validation_context=context))
    except Exception:  # a broken signature too
        return Verdict(signed=True, problem="không kiểm tra được chữ ký (tệp hoặc chữ ký bị hỏng)")
    signed_at = status.signer_reported_dt
    return Verdict(
        signed=True,
        intact=bool(status.intact and status.valid),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
        signed_by=_asn1_subject_name(status.signing_cert),
        signed_at=signed_at.astimezone(UTC) if signed_at else None,
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of pyHanko's coroutines to its end, from plain code or from inside a running event loop
    (where asyncio.run refuses: there it gets a loop of its own in a worker thread, and the caller waits)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as worker:
        return worker.submit(asyncio.run, coroutine).result()


def subject_name(cert: x509.Certificate) -> str:
    """The certificate holder as a person reads it: its common name, else its organisation, else the whole DN."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        found = cert.subject.get_attributes_for_oid(oid)
        if found:
            return str(found[0].value)
    return cert.subject.rfc4514_string()


def _asn1_subject_name(cert: asn1_x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    return subject_name(x509.load_der_x509_certificate(cert.dump()))


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _roots(trust_roots: Iterable[bytes | Path | x509.Certificate]):
    for root in trust_roots:
        if isinstance(root, Path | str):
            try:
                root = Path(root).read_bytes()
            except OSError:
                continue
        if isinstance(root, x509.Certificate):
            yield _asn1(root)
        elif asn1_pem.detect(root):
            for _, _, der in asn1_pem.unarmor(root, multiple=True):
                yield asn1_x509.Certificate.load(der)
        else:
            yield asn1_x509.Certificate.load(root)


def _is_pkcs12(data: bytes) -> bool:
    try:
        pfx = Pfx.load(data, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native == "data"
    except (ValueError, TypeError, KeyError):
        return False
