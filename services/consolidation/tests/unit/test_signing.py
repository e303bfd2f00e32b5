"""The issued report's signature: signed with a throwaway CA's key, checked again; a changed byte, a wrong
passphrase or a missing key file each said plainly, never a crash."""

import io
import re

import pytest
from pydantic import SecretStr
from pyhanko.pdf_utils.reader import PdfFileReader

from baocao_testing.signing import ISSUING_BODY, PROVINCE, throwaway_signing
from consolidation.adapters.pdf_report import render_pdf
from consolidation.adapters.signing import load_signer, sign_pdf, verify_pdf
from consolidation.config import Settings
from consolidation.domain.errors import SigningKeyUnavailable
from services.consolidation.tests.unit.office_report_sample import ISSUED, report


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_pdf(report("published", number="3/BC-BCĐNQ"), issued_on=ISSUED)


@pytest.fixture(scope="module")
def signer(signing_keys):
    return load_signer(signing_keys.pkcs12(PROVINCE), signing_keys.passphrase(), province=PROVINCE)


@pytest.fixture(scope="module")
def signed(pdf, signer) -> bytes:
    return sign_pdf(pdf, signer, reason="Ban hành báo cáo", location="Hải Dương")


def test_a_signed_report_is_intact_covers_the_whole_file_and_is_trusted(signed, signing_keys):
    verdict = verify_pdf(signed, trust_roots=[signing_keys.ca.read_bytes()])
    assert (verdict.signed, verdict.intact, verdict.covers_whole_file, verdict.trusted) == (True, True, True, True)
    assert verdict.valid
    assert verdict.signed_by == ISSUING_BODY
    assert verdict.signed_at is not None
    assert verdict.summary.startswith(f"Chữ ký số hợp lệ của {ISSUING_BODY}")


def test_the_signature_is_pades_with_sha256_in_its_own_field(signed):
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.md_algorithm == "sha256"
    assert signature.field_name == "ChuKySo"
    assert signed.count(b"%%EOF") == 2  # the original file, then the signature's incremental update


def test_the_signer_is_the_certificates_common_name(signer):
    assert signer.subject == ISSUING_BODY


def test_a_ca_the_reader_does_not_trust_leaves_an_intact_but_untrusted_signature(signed, tmp_path):
    other = throwaway_signing(tmp_path / "other")
    verdict = verify_pdf(signed, trust_roots=[other.ca.read_bytes()])
    assert verdict.intact and verdict.covers_whole_file
    assert not verdict.trusted and not verdict.valid
    assert "không thuộc tổ chức được tin cậy" in verdict.summary


def test_one_flipped_byte_in_the_signed_content_makes_it_not_valid_without_raising(signed, signing_keys):
    start, length = (int(n) for n in re.search(rb"/ByteRange \[\s*(\d+)\s+(\d+)", signed).groups())
    damaged = bytearray(signed)
    damaged[start + length // 2] ^= 0x01
    verdict = verify_pdf(bytes(damaged), trust_roots=[signing_keys.ca.read_bytes()])
    assert not verdict.intact
    assert not verdict.valid
    assert "không hợp lệ" in verdict.summary


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_broken_file_is_not_valid_and_does_not_raise(signed, signing_keys, damage):
    broken = signed[: len(signed) // 2] if damage == "truncated" else b"%PDF-1.4\n" + bytes(range(256)) * 8
    verdict = verify_pdf(broken, trust_roots=[signing_keys.ca.read_bytes()])
    assert not verdict.valid
    assert verdict.summary


def test_content_added_after_signing_is_not_covered(signed, signing_keys):
    appended = signed + b"\n% a later incremental update\n"
    verdict = verify_pdf(appended, trust_roots=[signing_keys.ca.read_bytes()])
    assert not verdict.valid


def test_an_unsigned_report_says_so(pdf, signing_keys):
    verdict = verify_pdf(pdf, trust_roots=[signing_keys.ca.read_bytes()])
    assert not verdict.signed and not verdict.valid
    assert verdict.summary == "Tệp chưa được ký số."


def test_a_wrong_passphrase_is_named_and_the_message_never_holds_a_passphrase(signing_keys):
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(signing_keys.pkcs12(PROVINCE), "mat-khau-sai-123", province=PROVINCE)
    error = raised.value
    assert error.reason == "wrong_passphrase" and error.province == PROVINCE
    assert error.code == "unavailable" and error.details["reason"]
    assert "sai mật khẩu của tệp khóa ký (PKCS#12)" in error.message
    text = f"{error} {error.details} {error!r}"
    assert "mat-khau-sai-123" not in text and signing_keys.passphrase() not in text


def test_no_passphrase_for_a_protected_key_file_is_named(signing_keys):
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(signing_keys.pkcs12(PROVINCE), None, province=PROVINCE)
    assert raised.value.reason == "no_passphrase"


def test_a_missing_key_file_is_named(tmp_path):
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(tmp_path / "31.p12", "x", province="31")
    assert raised.value.reason == "missing_file"
    assert "không tìm thấy tệp khóa ký" in raised.value.message


def test_a_file_that_is_no_pkcs12_is_named_unreadable(tmp_path):
    junk = tmp_path / "30.p12"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot a key\n")
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(junk, "x", province=PROVINCE)
    assert raised.value.reason == "unreadable"


def test_the_settings_name_each_provinces_key_file_and_read_the_passphrase_from_its_file(signing_keys, signed):
    settings = Settings(
        signing_pkcs12=signing_keys.pkcs12_pattern,
        signing_passphrase_file=signing_keys.passphrase_file,
        signing_trust_roots=signing_keys.ca,
    )
    assert isinstance(settings.signing_passphrase, SecretStr)
    assert signing_keys.passphrase() not in repr(settings)
    secret = settings.signing_passphrase.get_secret_value()
    signer = load_signer(settings.signing_pkcs12.format(province=PROVINCE), secret, province=PROVINCE)
    assert signer.subject == ISSUING_BODY
    assert verify_pdf(signed, trust_roots=[settings.signing_trust_roots]).valid  # a PEM file's path
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(settings.signing_pkcs12.format(province="31"), secret, province="31")
    assert raised.value.reason == "missing_file"


def test_a_passphrase_file_that_cannot_be_read_leaves_no_passphrase(tmp_path):
    assert Settings(signing_passphrase_file=tmp_path / "missing").signing_passphrase is None


def test_a_trust_roots_file_that_cannot_be_read_trusts_nothing(signed, tmp_path):
    verdict = verify_pdf(signed, trust_roots=[tmp_path / "missing.pem"])
    assert verdict.intact and not verdict.trusted


def test_no_key_file_configured_is_named():
    with pytest.raises(SigningKeyUnavailable) as raised:
        load_signer(Settings().signing_pkcs12, None, province=PROVINCE)
    assert raised.value.reason == "not_configured"
    assert "BAOCAO_SIGNING_PKCS12" in raised.value.message


async def test_signing_and_checking_work_inside_a_running_event_loop(pdf, signer, signing_keys):
    """The use cases are coroutines: pyHanko's own asyncio.run must not collide with their loop."""
    signed = sign_pdf(pdf, signer, reason="Ban hành báo cáo", location="Hải Dương")
    assert verify_pdf(signed, trust_roots=[signing_keys.ca.read_bytes()]).valid
