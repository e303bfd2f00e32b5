"""Who is told about what (pure rules, no I/O).

- reminders, overdue notices and nudges: the unit's own contacts;
- an escalation digest and an approved report: the province's operator contacts;
- a published report: the national standing office.
"""

from __future__ import annotations

from collections.abc import Iterable

from baocao_shared.events.catalog import ContactV1
from notify.domain.delivery import CHANNELS

# Channels the sender can deliver (adapters/channels.py registers one for each).
SUPPORTED_CHANNELS = frozenset(CHANNELS)


def deliverable(contacts: Iterable[ContactV1]) -> list[ContactV1]:
    """The contacts this service can reach, each (channel, address) once, in their given order."""
    seen: set[tuple[str, str]] = set()
    chosen = []
    for contact in contacts:
        address = contact.address.strip()
        # A URL's path is case-sensitive; mailboxes and account names are not.
        key = (contact.channel, address if contact.channel == "webhook" else address.lower())
        if contact.channel in SUPPORTED_CHANNELS and key not in seen:
            seen.add(key)
            chosen.append(contact)
    return chosen
