"""Demo signing keys: a throwaway root CA and one PKCS#12 key file per issuing body, for `make up` and tests.

    keys = ensure_demo_signing(home / "signing", {"30": "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"})
    keys.pkcs12("30")   # <folder>/30.p12, its passphrase in keys.passphrase_file, the CA in keys.ca

The folder holds ca.pem (what validation trusts), ca-key.pem (to issue a later province's key; encrypted
with the passphrase), <province>.p12 (the issuing body's key and certificate, CN = its name, with the CA in
the chain) and passphrase (mode 0600). Idempotent: files that exist are kept, only a missing province's key
is added. A real deployment uses the keys its CA issued; nothing here is trusted outside the demo.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CA_NAME = "Baocao Demo CA"
ORGANISATION = "Baocao demo"
CA_VALID = timedelta(days=3650)
KEY_VALID = timedelta(days=1825)
BACKDATE = timedelta(days=1)  # a clock a little behind still sees the keys as valid


@dataclass(frozen=True)
class DemoSigning:
    """Where the demo signing files are: the settings of the consolidation service point here."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def passphrase_file(self) -> Path:
        return self.folder / "passphrase"

    @property
    def pkcs12_pattern(self) -> str:
        """BAOCAO_SIGNING_PKCS12: one key file per province."""
        return str(self.folder / "{province}.p12")

    def pkcs12(self, province: str) -> Path:
        return self.folder / f"{province}.p12"

    def passphrase(self) -> str:
        return self.passphrase_file.read_text(encoding="utf-8").strip()


def ensure_demo_signing(folder: Path, issuing_bodies: Mapping[str, str], *, now: datetime | None = None) -> DemoSigning:
    """Make (or keep) the demo CA and a key file for each province in `issuing_bodies` (code -> issuing body)."""
    keys = DemoSigning(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    now = now or datetime.now(UTC)
    if not keys.passphrase_file.exists():
        # Without the passphrase nothing here opens: start the folder over.
        for stale in [keys.ca, keys.ca_key, *folder.glob("*.p12")]:
            stale.unlink(missing_ok=True)
        _write(keys.passphrase_file, secrets.token_urlsafe(24).encode(), mode=0o600)
    passphrase = keys.passphrase().encode()
    if keys.ca.exists() and keys.ca_key.exists():
        ca_cert = x509.load_pem_x509_certificate(keys.ca.read_bytes())
        ca_key = serialization.load_pem_private_key(keys.ca_key.read_bytes(), passphrase)
    else:
        for stale in folder.glob("*.p12"):  # issued by a CA that is gone
            stale.unlink()
        ca_key = _new_key()
        ca_cert = _ca_certificate(ca_key, now)
        encrypted = serialization.BestAvailableEncryption(passphrase)
        pem = ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encrypted)
        _write(keys.ca_key, pem, mode=0o600)
        _write(keys.ca, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    for province, issuing_body in issuing_bodies.items():
        path = keys.pkcs12(province)
        if not path.exists():
            _write(path, _issuing_body_pkcs12(issuing_body, ca_cert, ca_key, passphrase, now), mode=0o600)
    return keys


def province_issuing_bodies(files: Iterable[Path]) -> dict[str, str]:
    """Province code -> issuing body (cơ quan ban hành), from province files like deploy/provinces/*.yaml."""
    found = {}
    for path in files:
        province = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("province") or {}
        if province.get("code") and province.get("issuing_body"):
            found[str(province["code"])] = str(province["issuing_body"]).upper()
    return found


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write a file created with its final mode (a key is never readable by others, even for a moment)."""
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    part.replace(path)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )


def _ca_certificate(key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    name = _name(CA_NAME)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _issuing_body_pkcs12(
    issuing_body: str, ca_cert: x509.Certificate, ca_key, passphrase: bytes, now: datetime
) -> bytes:
    key = _new_key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(issuing_body))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + KEY_VALID, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        issuing_body.encode(), key, cert, [ca_cert], serialization.BestAvailableEncryption(passphrase)
    )


def _usage(**allowed: bool) -> x509.KeyUsage:
    flags = (
        "digital_signature",
        "content_commitment",  # nonRepudiation
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    )
    return x509.KeyUsage(**{flag: allowed.get(flag, False) for flag in flags}, encipher_only=False, decipher_only=False)
