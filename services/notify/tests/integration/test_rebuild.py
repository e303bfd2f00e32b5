"""`python -m notify.rebuild` on the real broker and database: a month's notices delivered by the live service
(mails to a real SMTP server, one of them refused for good, a unit's webhook, the province's in-app inbox; the
reminders, an overdue notice, the escalation, a nudge, the approved report; a notice for a unit the catalogue
never names, left waiting), then rebuilt from the same topics into a fresh database. Every table equals the live
one, and the sender on the rebuilt database finds nothing to send: no mail, no webhook call.

The test has a broker of its own (`own_kafka`): a rebuild reads the topics from their beginning."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select

from baocao_shared.events import make_event
from baocao_shared.events.catalog import PROVINCE_UPSERTED, UNIT_UPSERTED, ContactV1
from baocao_shared.events.deadlines import DEADLINE_MISSED, ESCALATION_RAISED, NUDGE_REQUESTED, REMINDER_DUE
from baocao_shared.events.reports import REPORT_APPROVED, ReportStatusV1
from baocao_shared.events.topics import NOTIFICATIONS
from baocao_shared.messaging.rebuild import NotEmpty
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, TokenMint, end_offsets, served, wait_until
from baocao_testing.rebuilt import differences, table_rows
from notify.adapters import orm
from notify.adapters.channels import channels_for
from notify.adapters.uow import NotifyUnitOfWork
from notify.handlers.sending import RetryPolicy, send_due
from notify.main import create_app
from notify.rebuild import rebuild
from services.notify.tests.integration import helpers as given

pytestmark = pytest.mark.integration
PROVINCE, PLAN = "30", "467"
REFUSED = "hopthu.khongton@thang.baocao.test"


def queries(group: str) -> dict[str, str]:
    """Every derived table, all rows and columns but these, which no event carries:
    - `created_at` of the catalogue-free rows (documents, deliveries, waiting notices) and a delivery's
      `next_attempt_at`: the database's clock when the consumer recorded it, or when the sender would look again;
    - an inbox message's `id` (made when the inbox delivery was sent) and `created_at` (that transaction's clock;
      the rebuilt one is the instant of notification.sent);
    - the inbox's `processed_at`, and its rows of the rebuild's own group (what it read back from
      baocao.notifications), which the live service never consumes."""
    return {
        "provinces": "SELECT * FROM provinces",
        "units": "SELECT * FROM units",
        "plans": "SELECT * FROM plans",
        "documents": "SELECT sha256, province, plan_id, period, number, kind, filename, size, content FROM documents",
        "deliveries": "SELECT * FROM deliveries",  # less the two columns, below
        "waiting_notices": "SELECT cause_event_id, cause_type, province, unit, plan_id, data FROM waiting_notices",
        "inbox_messages": "SELECT delivery_id, recipient, title, body, read_at FROM inbox_messages",
        "inbox": f"SELECT consumer_group, event_id, event_type FROM inbox WHERE consumer_group = '{group}'",
    }


def without_clock(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    drop = {"created_at", "next_attempt_at"}
    rows["deliveries"] = sorted(({k: v for k, v in r.items() if k not in drop} for r in rows["deliveries"]), key=repr)
    return rows


def hooks(calls: list) -> FastAPI:
    app = FastAPI()

    @app.post("/hooks/{unit}")
    async def hook(unit: str, request: Request) -> Response:
        calls.append((unit, await request.body()))
        return Response(status_code=204)

    return app


async def test_a_delivery_log_rebuilt_from_the_topics_equals_the_live_one_and_sends_nothing_again(own_kafka, postgres):
    kafka, mint = own_kafka, TokenMint()
    mailbox, calls = SmtpMailbox(refuse=frozenset({REFUSED})), []
    smtp = given.started_smtp(mailbox)
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()

    async def send(spec, data, at: datetime) -> None:
        event, key = make_event(spec, data, source="/baocao/test", province=PROVINCE, time=at)
        await producer.send_and_wait(spec.topic, value=event.to_bytes(), key=key.encode())

    try:
        with served(hooks(calls), free_port(), "webhook-receiver") as base:
            settings = await given.notify_settings(
                postgres, kafka, mail_to=smtp, retry_initial_s=0.2, retry_max_s=0.5, delivery_max_attempts=2,
                webhook_secret="whsec_" + "A" * 32, service_urls={"intake": "http://intake.test"},
            )  # fmt: skip
            live = create_app(settings, verifier=mint.verifier())
            async with live.router.lifespan_context(live):
                operator = ContactV1(channel="inbox", address="test-province_operator-30")
                await send(
                    PROVINCE_UPSERTED, given.a_province(PROVINCE, given.email("vp@baocao.test"), operator), _d(1)
                )
                contacts = {
                    "CA": [given.email("ca@baocao.test")],
                    "BTG": [given.email("btg@baocao.test"), ContactV1(channel="webhook", address=f"{base}/hooks/btg")],
                    "STP": [given.email(REFUSED)],
                }
                for code, reach in contacts.items():
                    await send(UNIT_UPSERTED, given.a_unit(PROVINCE, code, *reach), _d(1))
                await wait_until(lambda: _known(live), timeout=60, what="the catalogue in notify")
                for code in ("CA", "BTG", "STP", "GHOST"):  # GHOST: no unit of that code ever arrives
                    notice = given.a_notice(PROVINCE, PLAN, code, "reminder", day_offset=-1, fire_at=_d(14))
                    await send(REMINDER_DUE, notice, _d(14))
                late = given.a_notice(PROVINCE, PLAN, "BTG", "overdue", day_offset=0, fire_at=_d(16), late_by_s=3600)
                await send(DEADLINE_MISSED, late, _d(16))
                await send(ESCALATION_RAISED, given.a_digest(PROVINCE, PLAN, {"BTG": "Sở BTG"}, expected=3), _d(16))
                nudge = given.a_notice(PROVINCE, PLAN, "CA", "nudge", fire_at=_d(17), requested_by="op", message="Gửi")
                await send(NUDGE_REQUESTED, nudge, _d(17))
                approved = ReportStatusV1(
                    province=PROVINCE, plan_id=PLAN, period="2019-06", status="approved", revision=3, at=_d(26), by="op"
                )  # fmt: skip
                await send(REPORT_APPROVED, approved, _d(26))
                await wait_until(lambda: _settled(live), timeout=120, what="every delivery settled and announced")
    finally:
        await producer.stop()

    group = f"{settings.consumer_group_prefix}notify"
    live_rows = without_clock(await table_rows(settings.database_url, queries(group)))
    statuses = sorted((r["channel"], r["status"]) for r in live_rows["deliveries"])
    assert ("email", "failed") in statuses and ("webhook", "sent") in statuses and ("inbox", "sent") in statuses
    assert live_rows["waiting_notices"] and live_rows["inbox_messages"]
    mails, hooked, before = len(mailbox.messages), len(calls), await end_offsets(kafka.bootstrap, NOTIFICATIONS)

    rebuilt_url = await create_database(postgres, "notify")
    done = await rebuild(settings, into=rebuilt_url)
    rebuilt_rows = without_clock(await table_rows(rebuilt_url, queries(group)))
    assert differences(live_rows, rebuilt_rows) == {}
    print(
        f"\nrebuild: {done.records} records replayed ({done.replays['inputs'].records} inputs, "
        f"{done.replays['settled'].records} of baocao.notifications), {len(rebuilt_rows)} tables, "
        f"{sum(map(len, rebuilt_rows.values()))} rows compared, {done.seconds:.1f}s"
    )
    with pytest.raises(NotEmpty):
        await rebuild(settings, into=rebuilt_url)
    await rebuild(settings, into=rebuilt_url, reset=True)
    assert differences(live_rows, without_clock(await table_rows(rebuilt_url, queries(group)))) == {}

    # The sender on the rebuilt database, a day on (every retry due): nothing to send, no mail, no webhook call.
    rebuilt = settings.model_copy(update={"database_url": rebuilt_url})
    again = create_app(rebuilt, verifier=mint.verifier())
    async with again.router.lifespan_context(again):
        fresh = functools.partial(NotifyUnitOfWork.begin, again.state.runtime.sessionmaker)
        policy = RetryPolicy(max_attempts=2, initial_s=0.2, max_s=0.5)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        assert await send_due(fresh, channels_for(rebuilt), now=tomorrow, policy=policy) == 0
    smtp.stop()
    assert (len(mailbox.messages), len(calls)) == (mails, hooked), "no mail and no webhook call again"
    assert await end_offsets(kafka.bootstrap, NOTIFICATIONS) == before, "no new record on baocao.notifications"


def _d(day: int) -> datetime:
    return datetime(2019, 6, day, 1, tzinfo=UTC)


async def _known(app) -> bool:
    async with app.state.runtime.sessionmaker() as session:
        units = await session.scalar(select(func.count()).select_from(orm.units))
        provinces = await session.scalar(select(func.count()).select_from(orm.provinces))
    return units == 3 and provinces == 1


async def _settled(app) -> bool:
    """Every notice's deliveries made (the GHOST's waiting), none pending, every outcome relayed."""
    d = orm.deliveries.c
    async with app.state.runtime.sessionmaker() as session:
        made = await session.scalar(select(func.count()).select_from(orm.deliveries))
        pending = await session.scalar(select(func.count()).where(d.status == "pending"))
        waiting = await session.scalar(select(func.count()).select_from(orm.waiting_notices))
        unsent = await session.scalar(select(func.count()).where(orm.outbox.c.sent_at.is_(None)))
    return made >= 8 and pending == 0 and waiting == 1 and unsent == 0
