"""Settings of the consolidation service (environment variables with the BAOCAO_ prefix)."""

from pathlib import Path

from pydantic import SecretStr

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "consolidation"
    http_port: int = 8003

    # Signing the issued report (PAdES). One PKCS#12 key file per issuing body: the path may hold {province}
    # (BAOCAO_SIGNING_PKCS12=/etc/baocao/signing/{province}.p12). Its passphrase comes from
    # BAOCAO_SIGNING_PASSPHRASE, or from the file BAOCAO_SIGNING_PASSPHRASE_FILE names (kept out of the
    # process list and of supervisord's config). BAOCAO_SIGNING_TRUST_ROOTS: a PEM file of the CA
    # certificate(s) that validating a signed report trusts.
    signing_pkcs12: str | None = None
    signing_passphrase: SecretStr | None = None
    signing_passphrase_file: Path | None = None
    signing_trust_roots: Path | None = None
