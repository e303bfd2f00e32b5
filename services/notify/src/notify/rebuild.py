"""`python -m notify.rebuild`: rebuild notify's delivery log from the topics, sending nothing again.

    python -m notify.rebuild                 # into the service's own, freshly migrated database (service stopped)
    python -m notify.rebuild --reset         # the same, emptying the derived tables first
    python -m notify.rebuild --into URL      # into another database, e.g. to compare with the live one

1. The catalogue, deadlines and reports topics are replayed with the live consumer's map: the catalogue (contacts),
   the signed documents, the notices waiting for the catalogue, and each notice's deliveries, pending.
2. Its own topic, baocao.notifications, gives each delivery its outcome back (adapters.rebuild): its id, sent or
   failed, attempts, reason, when; a sent in-app delivery is its message in the recipient's inbox again.

Nothing is sent: the sender does not run here. A delivery left pending is one that was never settled (its
outcome is on no topic): the sender sends it once the service runs. Not on any topic, so not rebuilt (they come
back from the backup): whether an in-app message was read.
"""

from __future__ import annotations

import typer

from baocao_shared.events import topics
from baocao_shared.messaging.rebuild import Progress, Rebuilt, command, rebuilding
from notify.adapters import orm
from notify.adapters.rebuild import DERIVED, SETTLED
from notify.config import Settings
from notify.consumers import GROUP, consumer
from notify.main import MIGRATIONS

OWN = "settled"  # the inbox's consumer group for notify's own events, beside the live group's


async def rebuild(
    settings: Settings, *, into: str | None = None, reset: bool = False, progress: Progress | None = None
) -> Rebuilt:
    """Rebuild `into` (default: the service's database) from the topics."""
    spec = consumer(settings)
    group = f"{settings.consumer_group_prefix}{GROUP}"
    async with rebuilding(
        url=into or settings.database_url, migrations=MIGRATIONS, derived=DERIVED, outbox=orm.outbox,
        inbox=orm.inbox, bootstrap_servers=settings.kafka_bootstrap_servers, reset=reset,
        progress=progress or Progress("notify"),
    ) as work:  # fmt: skip
        await work.replay("inputs", spec.topics, spec.handlers, group)
        await work.replay(OWN, [topics.NOTIFICATIONS], SETTLED, f"{group}.{OWN}")
    return work.done


main = command("notify", rebuild, Settings)


if __name__ == "__main__":
    typer.run(main)
