"""`python -m intake.rebuild` on the real broker and database: the period locks intake derives from the reports'
events come back from baocao.reports, and nothing that is intake's own is touched.

Units submit through the API; consolidation's events (published, accepted, returned, published again, reopened)
lock and unlock three periods. Rebuilt into a fresh database, the locks and the inbox equal the live ones; rebuilt
in place with --reset, the submissions, their versions, the audit trail and the outbox are the same rows as
before, and nothing new is published. The module has a broker of its own (`kafka` is `own_kafka` here): a rebuild
reads baocao.reports from its beginning."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import typer
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from typer.testing import CliRunner

from baocao_shared.events import make_event
from baocao_shared.events.reports import REPORT_ACCEPTED, REPORT_PUBLISHED, REPORT_REOPENED, REPORT_RETURNED
from baocao_shared.events.topics import CATALOG, SUBMISSIONS
from baocao_shared.messaging.rebuild import command
from baocao_testing.fixtures import create_database
from baocao_testing.kit import end_offsets, wait_until
from baocao_testing.rebuilt import differences, table_rows
from intake.adapters import orm
from intake.rebuild import rebuild
from services.intake.tests.integration.test_national_answer import answer, published
from services.intake.tests.integration.test_submissions_api import PLAN, report

pytestmark = [pytest.mark.integration, pytest.mark.hai_duong_in_june]
AT = datetime(2019, 6, 10, 4, tzinfo=UTC)


@pytest.fixture(scope="module")
def kafka(own_kafka):
    return own_kafka


def derived(group: str) -> dict[str, str]:
    """The locks, every column; the inbox less `processed_at` (the clock of the insert)."""
    return {
        "period_locks": "SELECT * FROM period_locks",
        "inbox": f"SELECT consumer_group, event_id, event_type FROM inbox WHERE consumer_group = '{group}'",
    }


OWN = {  # intake's own: never derived, never touched by a rebuild
    "submissions": "SELECT * FROM submissions",
    "submission_versions": "SELECT * FROM submission_versions",
    "audit_log": "SELECT * FROM audit_log",
    "outbox": "SELECT * FROM outbox",
}


def of(plan_id: str, period: str, status: str, at: datetime, **extra):
    """A report event of this plan: `published` as consolidation publishes it, else a status change."""
    if status == "published":
        return published(extra.get("number", "1/BC-BCĐNQ"), at).model_copy(
            update={"plan_id": plan_id, "period": period}
        )
    return answer(status, at, extra.get("reason")).model_copy(update={"plan_id": plan_id, "period": period})


async def test_the_period_locks_rebuilt_from_baocao_reports_equal_the_live_ones_and_nothing_else_moves(
    intake, kafka, postgres
):
    for unit, period in (("CA", "2019-06"), ("BTG", "2019-06"), ("STP", "2019-06")):
        sent = await intake.client.post(
            "/v1/submissions", json=report(unit, period), headers=await intake.headers_for("reporter", "30", unit)
        )
        assert sent.status_code == 201, sent.text
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    ids = []
    try:
        for spec, data in [
            (REPORT_PUBLISHED, of(PLAN, "2019-05", "published", AT)),
            (REPORT_ACCEPTED, of(PLAN, "2019-05", "accepted", AT.replace(hour=5))),  # final: stays locked
            (REPORT_PUBLISHED, of(PLAN, "2019-06", "published", AT.replace(hour=6))),
            (REPORT_RETURNED, of(PLAN, "2019-06", "draft", AT.replace(hour=7), reason="Thiếu số liệu")),
            (REPORT_PUBLISHED, of(PLAN, "2019-06", "published", AT.replace(hour=8), number="2/BC-BCĐNQ")),
            (REPORT_PUBLISHED, of(PLAN, "2019-04", "published", AT.replace(hour=9))),
            (REPORT_REOPENED, of(PLAN, "2019-04", "draft", AT.replace(hour=10), reason="Sửa số liệu")),  # open again
        ]:
            event, key = make_event(spec, data, source="/baocao/consolidation", province="30", time=AT)
            await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())
            ids.append(event.id)
    finally:
        await producer.stop()

    async def all_read() -> bool:
        async with intake.transaction() as db:
            read = await db.scalar(select(func.count()).where(orm.inbox.c.event_id.in_(ids)))
            unsent = await db.scalar(select(func.count()).where(orm.outbox.c.sent_at.is_(None)))
        return read == len(ids) and unsent == 0

    await wait_until(all_read, timeout=60, what="intake to read every report event and relay its submissions")
    settings = intake.settings
    group = f"{settings.consumer_group_prefix}intake"
    live = await table_rows(settings.database_url, derived(group))
    assert sorted(r["period"] for r in live["period_locks"]) == ["2019-05", "2019-06"]
    own = await table_rows(settings.database_url, OWN)
    before = {topic: await end_offsets(kafka.bootstrap, topic) for topic in (SUBMISSIONS, CATALOG)}

    # Into a fresh database: the same locks, and no audit row or event made up for them.
    fresh = await create_database(postgres, "intake")
    done = await rebuild(settings, into=fresh)
    assert differences(live, await table_rows(fresh, derived(group))) == {}
    assert (await table_rows(fresh, {"audit_log": OWN["audit_log"], "outbox": OWN["outbox"]})) == {
        "audit_log": [],
        "outbox": [],
    }
    print(f"\nrebuild: {done.records} records replayed, 2 tables compared, {done.seconds:.1f}s")

    # In place: the command refuses without --reset, saying why; with it, the locks again, and intake's own rows
    # exactly as they were.
    cli = typer.Typer()
    cli.command()(command("intake", rebuild, lambda: settings))
    refused = await asyncio.to_thread(CliRunner().invoke, cli, [])
    assert refused.exit_code == 2, refused.output
    assert "already holds derived rows" in refused.output and "period_locks (2)" in refused.output
    done = await asyncio.to_thread(CliRunner().invoke, cli, ["--reset"])
    assert done.exit_code == 0 and "intake: rebuilt in" in done.output, done.output
    assert differences(live, await table_rows(settings.database_url, derived(group))) == {}
    assert differences(own, await table_rows(settings.database_url, OWN)) == {}
    assert {topic: await end_offsets(kafka.bootstrap, topic) for topic in before} == before
