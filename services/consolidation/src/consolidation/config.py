"""Settings of the consolidation service (environment variables with the BAOCAO_ prefix)."""

from pathlib import Path

from pydantic import SecretStr, model_validator

from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "consolidation"
    http_port: int = 8003
    max_upload_bytes: int = 20 * 1000 * 1000  # a PDF an official uploads to check it

    # Signing the published report (PAdES). One PKCS#12 key file per issuing body: the path may name
    # {province} (BAOCAO_SIGNING_PKCS12=/etc/baocao/signing/{province}.p12). Its passphrase is
    # BAOCAO_SIGNING_PASSPHRASE, or the content of the file BAOCAO_SIGNING_PASSPHRASE_FILE names (kept out of
    # the environment and of supervisord's config). BAOCAO_SIGNING_TRUST_ROOTS: a PEM file of the CA
    # certificate(s) that checking a signed report trusts.
    signing_pkcs12: str | None = None
    signing_passphrase: SecretStr | None = None
    signing_passphrase_file: Path | None = None
    signing_trust_roots: Path | None = None

    @model_validator(mode="after")
    def _passphrase_from_its_file(self) -> "Settings":
        if self.signing_passphrase is None and self.signing_passphrase_file is not None:
            try:
                self.signing_passphrase = SecretStr(self.signing_passphrase_file.read_text(encoding="utf-8").strip())
            except OSError:
                pass  # signing then says which setting is missing (SigningKeyUnavailable "no_passphrase")
        return self
