"""A message of the in-app inbox (hộp thư): addressed to one account, read by it alone (pure, no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InboxMessage:
    id: uuid.UUID
    delivery_id: uuid.UUID
    recipient: str  # the account name
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
