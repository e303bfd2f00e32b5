"""The refusals of notify's use cases, named (pure, no HTTP): the API answers each by its kind, the pages
explain each in Vietnamese.

Messages and details are the API's answers as published: programs and tests read them.
"""

from __future__ import annotations

import uuid

from baocao_shared.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable


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


class DocumentDoesNotMatch(Unprocessable):
    """A document_issued whose bytes are not what it announces: kept nowhere, its record dead-lettered."""

    def __init__(self, *, sha256: str, why: str) -> None:
        super().__init__(f"The document {sha256} is refused: {why}.", details={"sha256": sha256})
        self.sha256 = sha256


class DocumentNotKept(Unavailable):
    """A published report names a signed document whose bytes notify does not hold. Its document_issued comes
    earlier on the same partition, so this is not a wait: the handling fails, is retried, then dead-lettered
    (replayable once the document is kept), rather than sending the report without it."""

    def __init__(self, *, sha256: str) -> None:
        super().__init__(f"The document {sha256} of the published report is not kept here.", details={"sha256": sha256})
        self.sha256 = sha256
