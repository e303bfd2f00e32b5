"""Settings of the notify service (environment variables with the BAOCAO_ prefix)."""

import json

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from baocao_shared.events.catalog import ContactV1
from baocao_shared.settings import ServiceSettings
from baocao_shared.webhooks import InvalidSecret, signer


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
    # Where a published report is announced: the national standing office (Văn phòng Thường trực).
    national_contacts: list[ContactV1] = Field(default_factory=lambda: [ContactV1(channel="inbox", address="national")])
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Baocao <khong-tra-loi@baocao.local>"
    smtp_timeout_s: float = 10.0
    sender_enabled: bool = True
    sender_tick_s: float = 0.5  # real seconds between looks at the pending deliveries
    sender_batch: int = 50
    # Deliveries in flight at once, each in its own transaction: a crash re-sends at most this many.
    sender_concurrency: int = 4
    delivery_max_attempts: int = 6
    # Waits between attempts of one delivery: exponential from this, with as much jitter, capped.
    retry_initial_s: float = 5.0
    retry_max_s: float = 600.0
    # Webhooks (Standard Webhooks signing): the deployment's signing secret ("whsec_" + base64), and
    # optional per-endpoint secrets keyed by URL prefix (the longest matching prefix wins).
    webhook_secret: SecretStr | None = None
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    webhook_timeout_s: float = 10.0

    @field_validator("national_contacts", mode="before")
    @classmethod
    def _parse_contacts(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value else value

    @field_validator("webhook_secret", "webhook_secrets")
    @classmethod
    def _check_webhook_secrets(cls, value: SecretStr | dict[str, SecretStr] | None, info: ValidationInfo) -> object:
        """A malformed secret stops the service at start, not each delivery later."""
        named = value.items() if isinstance(value, dict) else [] if value is None else [("", value)]
        for prefix, secret in named:
            try:
                signer(secret.get_secret_value())
            except InvalidSecret as exc:
                where = f"BAOCAO_{info.field_name.upper()}" + (f"[{prefix!r}]" if prefix else "")
                raise InvalidSecret(f"{where}: {exc}") from None
        return value
