"""`python -m intake.rebuild`: rebuild what intake derives from events: the period locks.

    python -m intake.rebuild --reset         # in the service's own database (service stopped): locks again
    python -m intake.rebuild --into URL      # into another, freshly migrated database, e.g. to compare

Intake is the source of truth of almost all it holds: the catalogue, the regimes, accounts and API tokens,
submissions and their versions, idempotency keys, the office's exceptions, its audit trail. None of that is
derived from a topic, so none of it is rebuilt or touched here: it comes back from the backup. Only the period
locks follow an event, a report's on baocao.reports (published and accepted lock the period, reopened and
returned unlock it): `--reset` empties them and the consumer's inbox, and replays baocao.reports with the live
consumer's use cases, which write no audit row this time (the trail kept them). A lock an admin set or lifted by
hand (PUT/DELETE /v1/admin/locks) is on no topic: after a reset it is as the reports' events leave it.
"""

from __future__ import annotations

from typing import Any

import typer

from baocao_shared.messaging.rebuild import Progress, Rebuilt, command, rebuilding
from intake.adapters import orm
from intake.adapters.uow import IntakeUnitOfWork
from intake.config import Settings
from intake.consumers import CONSUMER, GROUP, handlers
from intake.main import MIGRATIONS

DERIVED = ("period_locks", "inbox")


class ReplayUnitOfWork(IntakeUnitOfWork):
    """The live unit of work but for the audit trail: a replayed lock was audited when it happened."""

    async def audit(self, **_: Any) -> None:
        return None


async def rebuild(
    settings: Settings, *, into: str | None = None, reset: bool = False, progress: Progress | None = None
) -> Rebuilt:
    """Rebuild the period locks of `into` (default: the service's database) from baocao.reports."""
    async with rebuilding(
        url=into or settings.database_url, migrations=MIGRATIONS, derived=DERIVED, outbox=orm.outbox,
        inbox=orm.inbox, bootstrap_servers=settings.kafka_bootstrap_servers, reset=reset,
        progress=progress or Progress("intake"),
    ) as work:  # fmt: skip
        group = f"{settings.consumer_group_prefix}{GROUP}"
        await work.replay("inputs", CONSUMER.topics, handlers(ReplayUnitOfWork), group)
    return work.done


main = command("intake", rebuild, Settings)


if __name__ == "__main__":
    typer.run(main)
