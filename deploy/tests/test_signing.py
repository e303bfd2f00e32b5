"""The demo signing keys `make up` makes: a CA, one key file per province named for its issuing body, kept."""

import io
import stat
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from reportlab.pdfgen import canvas
from rich.console import Console

from baocao_stack.demo import province_files
from baocao_stack.settings import StackSettings
from baocao_stack.signing import CA_NAME, ensure_demo_signing, province_issuing_bodies
from baocao_stack.stack import prepare_signing
from consolidation.adapters.signing import load_signer, sign_pdf, verify_pdf
from consolidation.config import Settings

HAI_DUONG = "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"


def _files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_keys_are_made_once_and_kept(tmp_path):
    folder = tmp_path / "signing"
    first = ensure_demo_signing(folder, {"30": HAI_DUONG})
    made = _files(folder)
    assert set(made) == {"ca.pem", "ca-key.pem", "passphrase", "30.p12"}

    again = ensure_demo_signing(folder, {"30": HAI_DUONG})
    assert again == first and _files(folder) == made  # the same files, byte for byte

    ensure_demo_signing(folder, {"30": HAI_DUONG, "31": "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI PHÒNG"})
    grown = _files(folder)
    assert set(grown) == set(made) | {"31.p12"}  # a new province gets its key, the others stay
    assert {name: grown[name] for name in made} == made


def test_secrets_are_readable_by_their_owner_only(tmp_path):
    keys = ensure_demo_signing(tmp_path / "signing", {"30": HAI_DUONG})
    for path in (keys.passphrase_file, keys.ca_key, keys.pkcs12("30")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(keys.folder.stat().st_mode) == 0o700
    assert len(keys.passphrase()) >= 24


def test_the_issuing_bodys_certificate_is_for_signing_and_chains_to_the_demo_ca(tmp_path):
    keys = ensure_demo_signing(tmp_path / "signing", {"30": HAI_DUONG})
    key, cert, chain = pkcs12.load_key_and_certificates(keys.pkcs12("30").read_bytes(), keys.passphrase().encode())
    ca = x509.load_pem_x509_certificate(keys.ca.read_bytes())
    assert key is not None and [c.subject for c in chain] == [ca.subject]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == HAI_DUONG
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Baocao demo"
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CA_NAME
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_before_utc < datetime.now(UTC) < cert.not_valid_after_utc


def test_without_its_passphrase_the_folder_starts_over(tmp_path):
    keys = ensure_demo_signing(tmp_path / "signing", {"30": HAI_DUONG})
    old_ca = keys.ca.read_bytes()
    keys.passphrase_file.unlink()
    ensure_demo_signing(keys.folder, {"30": HAI_DUONG})
    assert keys.ca.read_bytes() != old_ca
    pkcs12.load_key_and_certificates(keys.pkcs12("30").read_bytes(), keys.passphrase().encode())


def test_the_province_files_name_their_issuing_bodies():
    assert province_issuing_bodies(province_files())["30"] == HAI_DUONG


def test_up_makes_the_keys_that_consolidations_environment_points_at(tmp_path, monkeypatch):
    settings = StackSettings.from_env({"BAOCAO_HOME": str(tmp_path / "home")})
    prepare_signing(settings, Console(file=io.StringIO()), lambda _: None)
    for name, value in settings.service_env("consolidation").items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    secret = settings.signing_passphrase.get_secret_value()
    signer = load_signer(settings.signing_pkcs12.format(province="30"), secret, province="30")
    assert signer.subject == HAI_DUONG
    signed = sign_pdf(_a_pdf(), signer, reason="Phát hành", location="Hải Dương")
    assert verify_pdf(signed, trust_roots=[settings.signing_trust_roots]).valid


def _a_pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, invariant=1)
    page.drawString(72, 720, "Báo cáo")
    page.showPage()
    page.save()
    return out.getvalue()


def test_production_gets_no_demo_keys(tmp_path):
    settings = StackSettings.from_env({"BAOCAO_HOME": str(tmp_path / "home"), "BAOCAO_ENV": "production"})
    prepare_signing(settings, Console(file=io.StringIO()), lambda _: None)
    assert not settings.signing_dir.exists()
    assert "BAOCAO_SIGNING_PKCS12" not in settings.service_env("consolidation")
