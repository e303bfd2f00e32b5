"""The event a notice answers (pure, no I/O): its deliveries carry its id, so a second copy of it, or the
same notice released after waiting for the catalogue, adds none."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """The event a delivery answers, and what the messages may link to."""

    event_id: uuid.UUID
    event_type: str
    service_urls: Mapping[str, str]

    def link(self, service: str, path: str) -> str | None:
        base = self.service_urls.get(service)
        return f"{base.rstrip('/')}{path}" if base else None
