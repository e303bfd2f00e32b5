"""The issued report's signature: signed with a throwaway CA's key, checked again; a changed byte, a wrong
passphrase or a missing key file each said plainly, never a crash."""

import io
import re

import pytest
from pydantic import SecretStr
from pyhanko.pdf_utils.reader import PdfFileReader

from baocao_testing.signing import ISSUING_BODY, PROVINCE, throwaway_signing
from consolidation.adapters.pdf_report import typeset_pdf
from consolidation.adapters.signing import SigningKeys, load_signer, sign_pdf, verify_pdf
from consolidation.config import Settings
from consolidation.domain.errors import SigningKeyUnavailable
from services.consolidation.tests.unit import report_text_sample as words


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return typeset_pdf(words.report_text(draft=False))


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
    assert signer.signed_by == ISSUING_BODY


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
    assert error.code == "signing_key_unavailable"
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


def test_the_settings_find_each_provinces_key_file_and_the_passphrase_file(signing_keys, signed):
    settings = Settings(
        signing_pkcs12=signing_keys.pkcs12_pattern,
        signing_passphrase_file=signing_keys.passphrase_file,
        signing_trust_roots=signing_keys.ca,
    )
    keys = SigningKeys.from_settings(settings)
    assert keys.signer(PROVINCE).signed_by == ISSUING_BODY
    assert verify_pdf(signed, trust_roots=keys.trust_roots).valid
    with pytest.raises(SigningKeyUnavailable) as raised:
        keys.signer("31")
    assert raised.value.reason == "missing_file"
    assert signing_keys.passphrase() not in repr(keys)


def test_a_passphrase_in_the_settings_is_a_secret(signing_keys):
    settings = Settings(signing_pkcs12=signing_keys.pkcs12_pattern, signing_passphrase=signing_keys.passphrase())
    assert isinstance(settings.signing_passphrase, SecretStr)
    assert signing_keys.passphrase() not in repr(settings)
    assert SigningKeys.from_settings(settings).signer(PROVINCE).signed_by == ISSUING_BODY


def test_no_key_file_configured_is_named():
    with pytest.raises(SigningKeyUnavailable) as raised:
        SigningKeys.from_settings(Settings()).signer(PROVINCE)
    assert raised.value.reason == "not_configured"
