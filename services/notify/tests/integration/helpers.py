"""What notify's integration tests share: a notify of their own beside the other tests' on the shared broker and
PostgreSQL, the catalogue they publish to it, and the rows they read back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import Table, func, select

from baocao_shared.events.catalog import ContactV1, ProvinceV1, UnitV1
from baocao_shared.events.deadlines import EscalationV1, UnitNoticeV1
from baocao_stack.ports import free_port
from baocao_testing.fixtures import create_database
from baocao_testing.kit import SmtpMailbox, TokenMint, fresh_group_prefix, wait_until
from notify.adapters import orm
from notify.adapters.catalog import Catalogue
from notify.config import Settings
from notify.main import create_app

INTAKE = "http://intake.test"  # where the pages send a browser to sign in


async def notify_settings(postgres, kafka, *, mail_to: Controller | None = None, **settings) -> Settings:
    """A notify on a new database, in a consumer group of its own (unless `consumer_group_prefix` says which).

    With `mail_to`, it mails to that SMTP server, and its sender and outbox relay look every 0.1 s.
    """
    quick = {"smtp_port": mail_to.port, "sender_tick_s": 0.1, "outbox_poll_interval_s": 0.1} if mail_to else {}
    if "consumer_group_prefix" not in settings:
        settings["consumer_group_prefix"] = await fresh_group_prefix(kafka.bootstrap)
    return Settings(
        database_url=await create_database(postgres, "notify"),
        env="test",
        kafka_bootstrap_servers=kafka.bootstrap,
        **quick,
        **settings,
    )


@asynccontextmanager
async def seeded_notify(
    postgres, kafka, mint: TokenMint, *, catalogue: Iterable[ProvinceV1 | UnitV1], deliveries: list, messages: list
) -> AsyncIterator[FastAPI]:
    """A running notify whose sender is off (a delivery sent again stays pending), with its catalogue, deliveries
    and inbox messages written straight into its tables: for the tests of what the pages and the API show."""
    settings = await notify_settings(postgres, kafka, sender_enabled=False, service_urls={"intake": INTAKE})
    app = create_app(settings, verifier=mint.verifier())
    async with app.router.lifespan_context(app):
        async with app.state.runtime.sessionmaker() as db, db.begin():
            for entity in catalogue:
                if isinstance(entity, ProvinceV1):
                    await Catalogue(db).upsert_province(entity)
                else:
                    await Catalogue(db).upsert_unit(entity)
            await db.execute(orm.deliveries.insert(), deliveries)
            await db.execute(orm.inbox_messages.insert(), messages)
        yield app


def email(address: str) -> ContactV1:
    return ContactV1(channel="email", address=address)


def a_province(
    code: str, *operators: ContactV1, name: str = "Tỉnh Thử nghiệm", place: str = "Thử nghiệm"
) -> ProvinceV1:
    return ProvinceV1(
        code=code, name=name, issuing_body="BAN CHỈ ĐẠO", place_name=place, operator_contacts=list(operators)
    )


def a_unit(province: str, code: str, *contacts: ContactV1, name: str | None = None) -> UnitV1:
    return UnitV1(
        province=province, code=code, name=name or f"Sở Thử nghiệm {code}", kind="member", contacts=list(contacts)
    )


DUE = datetime(2019, 6, 15, 17, 0, tzinfo=UTC)  # the June 2019 report's deadline: 00:00 on 16/06/2019 local
PERIOD = "2019-06"


def a_notice(
    province: str, plan_id: str, unit: str, kind: str, *, fire_at: datetime, unit_name: str | None = None, **extra
) -> UnitNoticeV1:
    """A reminder, overdue notice or nudge of June 2019, as deadlines publishes it."""
    return UnitNoticeV1(
        province=province, plan_id=plan_id, period=PERIOD, unit=unit, unit_name=unit_name or f"Sở Thử nghiệm {unit}",
        due_at=DUE, kind=kind, sequence=0, fire_at=fire_at, **extra,
    )  # fmt: skip


def a_digest(province: str, plan_id: str, missing: Mapping[str, str], *, expected: int) -> EscalationV1:
    """The escalation of June 2019 naming the `missing` units (code -> name), as deadlines publishes it."""
    return EscalationV1(
        province=province, plan_id=plan_id, period=PERIOD, due_at=DUE, fire_at=datetime(2019, 6, 16, 1, tzinfo=UTC),
        expected=expected, missing_units=[{"unit": code, "unit_name": name} for code, name in missing.items()],
    )  # fmt: skip


def started_smtp(mailbox: SmtpMailbox) -> Controller:
    """A real SMTP server on a free loopback port, keeping what it accepts in `mailbox`."""
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    return smtp


def a_delivery_row(province: str, **values) -> dict:
    """A row of notify's `deliveries`: a reminder of June 2019 sent by email, unless `values` say otherwise."""
    return {
        "id": uuid.uuid4(),
        "cause_event_id": uuid.uuid4(),
        "cause_type": "vn.baocao.reminder.due.v1",
        "province": province,
        "period": PERIOD,
        "channel": "email",
        "subject": "[Nhắc hạn] Báo cáo tháng 06/2019",
        "body_text": "Kính gửi đơn vị,\n\nĐề nghị gửi báo cáo trước hạn.",
        "unit": None,
        "status": "sent",
        "attempts": 1,
        "last_error": None,
        "created_at": datetime(2019, 6, 10, 1, tzinfo=UTC),
        "sent_at": None,
        **values,
    }


async def deliveries_of(app, plan_id: str) -> list:
    """The rows of notify's `deliveries` about one plan (each test's own)."""
    async with app.state.runtime.sessionmaker() as session:
        d = orm.deliveries
        return list((await session.execute(select(d).where(d.c.plan_id == plan_id))).all())


async def units_known(app, codes: Iterable[str]) -> int:
    """How many of these units notify's catalogue holds."""
    async with app.state.runtime.sessionmaker() as session:
        u = orm.units.c
        return await session.scalar(select(func.count()).select_from(orm.units).where(u.code.in_(list(codes))))


async def insert(app, table: Table, rows: list[dict]) -> None:
    """Rows written straight into one of notify's tables, committed."""
    async with app.state.runtime.sessionmaker() as db, db.begin():
        await db.execute(table.insert(), rows)


async def consumed_through(bootstrap: str, group: str, record, *, what: str) -> None:
    """Wait until `group` has committed past `record` (the metadata of a record sent): it has read it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def done() -> bool:
            try:
                committed = await admin.list_consumer_group_offsets(group)
            except KafkaError:  # the group's coordinator may take a moment to exist
                return False
            position = committed.get(TopicPartition(record.topic, record.partition), SimpleNamespace(offset=-1))
            return position.offset > record.offset

        await wait_until(done, timeout=60, interval=0.2, what=what)
    finally:
        await admin.close()
