"""The refusals of notify's use cases, named (pure, no HTTP): the API answers each by its kind, the pages
explain each in Vietnamese.

Messages and details are the API's answers as published: programs and tests read them.
"""

from __future__ import annotations

import uuid

from baocao_shared.errors import Conflict, Forbidden, NotFound


class DeliveriesNotVisible(Forbidden):
    """A province's deliveries are for its operators, the national office and admins; never a unit's reporter."""

    def __init__(self, *, province: str | None) -> None:
        super().__init__("Deliveries of a province are for its operators and the national office.")
        self.province = province


class NotAProvinceCode(NotFound):
    """A page asked for a province by something that is not a two-digit code (the API refuses it as input)."""

    def __init__(self, *, province: str) -> None:
        super().__init__("A province code has two digits, e.g. 30.")
        self.province = province


class DeliveryNotFound(NotFound):
    """No delivery has this id (or the address names no id at all)."""

    def __init__(self, *, delivery_id: uuid.UUID | None) -> None:
        super().__init__("There is no delivery with this id.")
        self.delivery_id = delivery_id


class ResendNotAllowed(Forbidden):
    """Only the province's own operators and admins send one of its deliveries again."""

    def __init__(self, *, province: str) -> None:
        super().__init__("Only the province's own operators and admins may send a delivery again.")
        self.province = province


class NotResendable(Conflict):
    """Only a failed delivery goes back to the sender: a pending one is already waiting, a sent one arrived."""

    def __init__(self, *, status: str) -> None:
        super().__init__(
            f"This delivery is {status}, not failed: only a failed delivery can be sent again.",
            details={"status": status},
        )
        self.status = status


class NotYourMessage(NotFound):
    """The caller's inbox holds no message with this id: another account's message does not exist for them."""

    def __init__(self, *, message_id: uuid.UUID | None) -> None:
        super().__init__("There is no message with this id in your inbox.")
        self.message_id = message_id
