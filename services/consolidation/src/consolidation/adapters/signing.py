"""The issued report's digital signature: PAdES (ETSI.CAdES.detached, SHA-256) with pyHanko, and its check.

    signer = load_signer("/etc/baocao/signing/30.p12", passphrase, province="30")
    signed = sign_pdf(pdf, signer, reason="Ban hành báo cáo", location="Hải Dương")
    verdict = verify_pdf(signed, trust_roots=[ca_pem])   # verdict.valid, verdict.summary

One key file (PKCS#12) per issuing body; `SigningKeys.from_settings(settings)` finds a province's from
BAOCAO_SIGNING_PKCS12 (a path with {province}). A key that cannot be used is a `SigningKeyUnavailable`
naming what to fix; the passphrase is never logged nor put in a message. `verify_pdf` never raises on a
damaged file: it says the file is not valid. pyHanko runs its own event loop inside these calls: from
async code, call them through `asyncio.to_thread`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from asn1crypto.pkcs12 import Pfx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from consolidation.config import Settings
from consolidation.domain.errors import SigningKeyUnavailable

FIELD_NAME = "ChuKySo"  # the signature field pyHanko adds (one per signing)


@dataclass(frozen=True)
class DocumentSigner:
    """An issuing body's key, ready to sign: `signed_by` is its certificate's name as the report shows it."""

    signer: signers.SimpleSigner
    signed_by: str
    not_after: datetime


def load_signer(pkcs12_path: str | Path, passphrase: str | bytes | None, *, province: str = "") -> DocumentSigner:
    """The key and certificate of a PKCS#12 file; SigningKeyUnavailable when it cannot be used now."""
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
    return DocumentSigner(signer=signer, signed_by=subject_name(cert), not_after=cert.not_valid_after_utc)


def sign_pdf(pdf: bytes, signer: DocumentSigner, *, reason: str, location: str) -> bytes:
    """`pdf` with a PAdES baseline signature in a new field, covering the whole file (an incremental update)."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=signer.signed_by,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.PdfSigner(meta, signer.signer).sign_pdf(writer, output=io.BytesIO())
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
        when = f" lúc {self.signed_at.strftime('%H:%M ngày %d/%m/%Y (UTC)')}" if self.signed_at else ""
        if not self.trusted:
            return f"Chữ ký số{who}{when} còn nguyên vẹn nhưng chứng thư số không thuộc tổ chức được tin cậy."
        return f"Chữ ký số hợp lệ{who}{when}; nội dung không bị thay đổi."


def verify_pdf(pdf: bytes, *, trust_roots: Iterable[bytes | x509.Certificate]) -> Verdict:
    """Check the file's last signature against `trust_roots` (PEM bytes, one or more certificates each, or
    cryptography certificates). Never raises on a damaged or unsigned file."""
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
        status = validate_pdf_signature(embedded, signer_validation_context=context)
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


@dataclass
class SigningKeys:
    """The service's signing keys: a PKCS#12 file per province (a path pattern with {province}), one
    passphrase, and the CA(s) validation trusts. Built once in the composition root."""

    pkcs12_pattern: str | None
    passphrase: str | None = field(default=None, repr=False)
    passphrase_file: Path | None = None
    trust_roots_file: Path | None = None
    _signers: dict[str, DocumentSigner] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningKeys:
        secret = settings.signing_passphrase.get_secret_value() if settings.signing_passphrase else None
        return cls(settings.signing_pkcs12, secret, settings.signing_passphrase_file, settings.signing_trust_roots)

    def signer(self, province: str) -> DocumentSigner:
        """The province's issuing body's key (loaded once, again after its certificate expires)."""
        known = self._signers.get(province)
        if known is not None and known.not_after > datetime.now(UTC):
            return known
        if not self.pkcs12_pattern:
            raise SigningKeyUnavailable(province=province, reason="not_configured")
        path = self.pkcs12_pattern.replace("{province}", province)
        self._signers[province] = load_signer(path, self._passphrase(province, path), province=province)
        return self._signers[province]

    @cached_property
    def trust_roots(self) -> list[bytes]:
        """The trusted CA certificates, as PEM (none when no file is configured or it cannot be read)."""
        try:
            return [self.trust_roots_file.read_bytes()] if self.trust_roots_file else []
        except OSError:
            return []

    def _passphrase(self, province: str, path: str) -> str | None:
        if self.passphrase is not None or self.passphrase_file is None:
            return self.passphrase
        try:
            return self.passphrase_file.read_text(encoding="utf-8").strip()
        except OSError:
            raise SigningKeyUnavailable(province=province, reason="no_passphrase", path=path) from None


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


def _roots(trust_roots: Iterable[bytes | x509.Certificate]):
    for root in trust_roots:
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
