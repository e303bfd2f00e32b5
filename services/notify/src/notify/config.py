"""Settings of the notify service (environment variables with the BAOCAO_ prefix)."""

import json

from pydantic import Field, field_validator

from baocao_shared.events.catalog import ContactV1
from baocao_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
    # Where a published report is announced: the national standing office (Văn phòng Thường trực).
    national_contacts: list[ContactV1] = Field(default_factory=lambda: [ContactV1(channel="inbox", address="national")])
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Baocao <khong-tra-loi@baocao.local>"
    smtp_timeout_s: float = 10.0
    sender_enabled: bool = True
    sender_tick_s: float = 0.5  # real seconds between looks at the pending deliveries
    sender_batch: int = 50
    delivery_max_attempts: int = 6
    # Waits between attempts of one delivery: exponential from this, with as much jitter, capped.
    retry_initial_s: float = 5.0
    retry_max_s: float = 600.0

    @field_validator("national_contacts", mode="before")
    @classmethod
    def _parse_contacts(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value else value
