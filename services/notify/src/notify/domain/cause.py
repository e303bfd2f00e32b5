"""The event a notice answers (pure, no I/O): its deliveries carry its id, so a second copy of it, or the
same notice released after waiting for the catalogue, adds none."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Cause:
    """The event a delivery answers, and what the messages may link to."""

    event_id: uuid.UUID
    event_type: str
    service_urls: Mapping[str, str]

    def link(self, service: str, path: str, **query: str | None) -> str | None:
        """The page's address on that service (None when its address is not configured), with the query's
        parameters that have a value: a province with several plans needs `plan_id` to open the right one."""
        base = self.service_urls.get(service)
        if not base:
            return None
        given = urlencode({name: value for name, value in query.items() if value})
        return f"{base.rstrip('/')}{path}{'?' + given if given else ''}"

    def report_page(self, province: str, period: str, plan_id: str) -> str | None:
        """The report's page in the staff office's console, for that plan."""
        return self.link("consolidation", f"/tong-hop/{province}/{period}", plan_id=plan_id)
