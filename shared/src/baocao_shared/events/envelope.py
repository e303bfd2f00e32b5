"""The CloudEvents 1.0 envelope (JSON structured mode) that every Kafka record value carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CloudEvent(BaseModel):
    """One event: CloudEvents 1.0 attributes plus the `province` and `correlationid` extensions."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(min_length=1, description="The producing service, e.g. /baocao/intake")
    type: str = Field(pattern=r"^vn\.baocao\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    province: str | None = None
    correlationid: str | None = None

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> CloudEvent:
        if raw is None:
            raise ValueError("record has no value (a tombstone is not an event)")
        return cls.model_validate_json(raw)
