"""Throwaway signing keys for tests: a CA and an issuing body's PKCS#12 file in a temporary folder, made by
the same code as `make up`'s demo keys (`baocao_stack.signing`).

    def test_sign(signing_keys):  # DemoSigning: .pkcs12("30"), .passphrase(), .ca (PEM), .pkcs12_pattern
        signer = load_signer(signing_keys.pkcs12("30"), signing_keys.passphrase(), province="30")
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from baocao_stack.signing import DemoSigning, ensure_demo_signing

PROVINCE = "30"
ISSUING_BODY = "BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH HẢI DƯƠNG"


def throwaway_signing(folder: Path, issuing_bodies: dict[str, str] | None = None) -> DemoSigning:
    """A CA and one key file per province (default: Hải Dương's issuing body) in `folder`."""
    return ensure_demo_signing(folder, issuing_bodies or {PROVINCE: ISSUING_BODY})


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> DemoSigning:
    """One throwaway CA and Hải Dương's key file for the session (RSA keys take a moment to make)."""
    return throwaway_signing(tmp_path_factory.mktemp("signing"))


@functools.cache
def signing_settings() -> dict[str, object]:
    """Settings for an in-process consolidation app that signs with one throwaway key (Hải Dương's issuing
    body, whatever the province): made once per test process, in a temporary folder."""
    keys = throwaway_signing(Path(tempfile.mkdtemp(prefix="baocao-signing-")))
    return {
        "signing_pkcs12": str(keys.pkcs12(PROVINCE)),
        "signing_passphrase_file": keys.passphrase_file,
        "signing_trust_roots": keys.ca,
    }
