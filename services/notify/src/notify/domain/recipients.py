"""Who is told about what (pure rules, no I/O).

- reminders, overdue notices and nudges: the unit's own contacts;
- an escalation digest and an approved report: the province's operator contacts;
- a published report: the national standing office.
"""

from __future__ import annotations

from collections.abc import Iterable

from baocao_shared.events.catalog import ContactV1

# Channels the sender can deliver today; webhook contacts wait for the webhook channel.
SUPPORTED_CHANNELS = frozenset({"email", "inbox"})


def deliverable(contacts: Iterable[ContactV1]) -> list[ContactV1]:
    """The contacts this service can reach, each (channel, address) once, in their given order."""
    seen: set[tuple[str, str]] = set()
    chosen = []
    for contact in contacts:
        key = (contact.channel, contact.address.strip().lower())
        if contact.channel in SUPPORTED_CHANNELS and key not in seen:
            seen.add(key)
            chosen.append(contact)
    return chosen
