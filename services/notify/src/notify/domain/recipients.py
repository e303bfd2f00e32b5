"""Who is told about what (pure rules, no I/O).

- reminders, overdue notices and nudges: the unit's own contacts;
- an escalation digest, an approved report, and the national office's answer to a published one (returned,
  with its reason; accepted): the province's operator contacts;
- a published report: every addressee of its "Nơi nhận" that has a contact: the national standing office
  (notify's settings), the province's staff office (its operator contacts), each unit the plan names, and
  the contacts a line gives itself. A line that is only printed (e.g. "Lưu: VT.") is no addressee. A report
  of an older plan names no addressees: it goes to the national standing office alone, as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from baocao_shared.events.catalog import AddresseeV1, ContactV1, UnitV1
from notify.domain.delivery import CHANNELS

# Channels the sender can deliver (adapters/channels.py registers one for each).
SUPPORTED_CHANNELS = frozenset(CHANNELS)
# How the messages and the log name the national standing office when a report names no addressees.
NATIONAL_OFFICE = "Văn phòng Thường trực"
# The purpose a line of Nơi nhận ends with: "(để báo cáo)", "(để b/c)", "(để biết)", "(để thực hiện)".
_PURPOSE = re.compile(r"\s*\(để\b[^()]*\)$")

T = TypeVar("T")


@dataclass(frozen=True)
class Recipient:
    """One contact of one addressee: whom the deliveries' log names (`label`), and where the message goes."""

    label: str
    contact: ContactV1
    unit: str | None = None  # the unit's code, when it is reached as a unit of the plan


def deliverable(contacts: Iterable[ContactV1]) -> list[ContactV1]:
    """The contacts this service can reach, each (channel, address) once, in their given order."""
    return _each_once(contacts, lambda contact: contact)


def addressees_of(report_addressees: Sequence[AddresseeV1]) -> list[AddresseeV1]:
    """Whom a published report goes to: its addressees, or the national standing office for an older report."""
    return list(report_addressees) or [AddresseeV1(label=NATIONAL_OFFICE, reach="national")]


def addressed(
    addressees: Iterable[AddresseeV1],
    *,
    national: Sequence[ContactV1],
    operators: Sequence[ContactV1],
    units: Sequence[UnitV1],
) -> list[Recipient]:
    """Every reachable contact of the addressees, in their order, each (channel, address) once: the first line
    that reaches an address names it. `units` are the plan's, in its order; an inactive one is left out."""

    def every() -> Iterable[Recipient]:
        for addressee in addressees:
            label = line_label(addressee.label)
            if addressee.reach == "units":
                for unit in (u for u in units if u.active):
                    yield from (Recipient(unit.name, contact, unit.code) for contact in unit.contacts)
                continue
            reached = {"national": national, "operators": operators, "contacts": addressee.contacts}
            yield from (Recipient(label, contact) for contact in reached.get(addressee.reach, ()))

    return _each_once(every(), lambda recipient: recipient.contact)


def line_label(line: str) -> str:
    """A line of Nơi nhận as the log and the greeting name it, without its dash, closing punctuation and purpose:
    "Trưởng Ban chỉ đạo Nhân quyền tỉnh (để báo cáo);" -> "Trưởng Ban chỉ đạo Nhân quyền tỉnh"."""
    label = _PURPOSE.sub("", line.strip().lstrip("-–• ").rstrip(";,.: ")).rstrip(";,.: ")
    return label or line.strip()


def _each_once(items: Iterable[T], contact_of: Callable[[T], ContactV1]) -> list[T]:
    seen: set[tuple[str, str]] = set()
    chosen = []
    for item in items:
        contact = contact_of(item)
        address = contact.address.strip()
        # A URL's path is case-sensitive; mailboxes and account names are not.
        key = (contact.channel, address if contact.channel == "webhook" else address.lower())
        if contact.channel in SUPPORTED_CHANNELS and key not in seen:
            seen.add(key)
            chosen.append(item)
    return chosen
