"""The names a delivery can take, defined once: its channel and its status (pure, no I/O)."""

from typing import Literal, get_args

Channel = Literal["email", "webhook", "inbox"]
DeliveryStatus = Literal["pending", "sent", "failed"]  # pending until sent, or failed after its last attempt

CHANNELS: tuple[str, ...] = get_args(Channel)
STATUSES: tuple[str, ...] = get_args(DeliveryStatus)
