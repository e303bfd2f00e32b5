"""The settings base every service's `Settings` class extends (pydantic-settings, env prefix BAOCAO_)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from baocao_shared.clock import Clock, build_clock

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-secret", "baocao-demo"}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BAOCAO_", extra="ignore", env_ignore_empty=True)

    service_name: str = "baocao"
    env: Literal["development", "test", "production"] = "development"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    database_url: str = Field(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/baocao",
        validation_alias=AliasChoices("BAOCAO_DATABASE_URL", "DATABASE_URL"),
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("BAOCAO_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    topic_partitions: int = 3
    # The archival period of the topics (ms; -1: forever): the dead-letter topic a service creates keeps its
    # records this long (baocao_shared.events.topics says why).
    topic_retention_ms: int = -1
    consumer_max_attempts: int = 3
    consumer_group_prefix: str = ""  # tests give each app its own groups on a shared broker
    outbox_poll_interval_s: float = 1.0
    # How often each process reloads the accounts' access that changed (a deactivation, a password change):
    # the longest a revoked token still works here, once the change reached this service's database.
    token_access_poll_interval_s: float = 0.5
    # Connections each process may hold to its database, opened when needed and then kept: a pool that closed
    # the ones above a smaller core after each burst opened new ones all through a steady load (PostgreSQL
    # starts a process for each, asyncpg asks it for the JSON codecs).
    db_pool_size: int = 30
    # Worker processes serving the one port (uvicorn's workers=); each has its own pool of db_pool_size
    # connections, its own relay and consumers. 1: one process, as before. More only where cores are free.
    workers: int = Field(1, ge=1)
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    max_upload_bytes: int = 0  # a file a page takes (multipart/form-data); 0: max_body_bytes
    service_urls: dict[str, str] = {}  # where the services reach each other (server-side calls)
    # Where browsers reach them (links in pages and mails) when that differs, e.g. behind one reverse
    # proxy: {"intake": "https://baocao.example.vn", ...}. Empty: the service_urls serve both.
    public_urls: dict[str, str] = {}

    clock: Literal["system", "simulated", "file"] = "system"
    clock_start: datetime | None = None
    clock_epoch: datetime | None = None
    clock_speed: float = 1.0
    clock_file: Path | None = None  # BAOCAO_CLOCK=file: the file holding the one instant every process reads

    @field_validator("service_urls", "public_urls", mode="before")
    @classmethod
    def _parse_urls(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value else (value or {})

    @model_validator(mode="after")
    def _production_rules(self) -> ServiceSettings:
        if self.env == "production" and self.clock != "system":
            raise ValueError(f"BAOCAO_ENV=production refuses BAOCAO_CLOCK={self.clock}")
        return self

    def public_url(self, service: str) -> str:
        """A service's address for browsers, without a trailing slash ("" when unknown)."""
        return (self.public_urls.get(service) or self.service_urls.get(service) or "").rstrip("/")

    def build_clock(self) -> Clock:
        return build_clock(
            kind=self.clock,
            env=self.env,
            start=self.clock_start,
            epoch=self.clock_epoch,
            speed=self.clock_speed,
            file=self.clock_file,
        )
