"""The outbox and inbox tables every service's database holds (no dual writes)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, String, Table, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB

OUTBOX_CHANNEL = "baocao_outbox"


def _outbox_columns() -> list[Column]:
    return [
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
    ]


def _inbox_columns() -> list[Column]:
    return [
        Column("consumer_group", String(200), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("event_type", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def outbox_table(metadata: MetaData) -> Table:
    """Events waiting to be sent; a row commits with the state change that caused it."""
    return Table(
        "outbox",
        metadata,
        *_outbox_columns(),
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Events a consumer group has applied; a duplicate delivery finds its row and is skipped."""
    return Table("inbox", metadata, *_inbox_columns())


def create_messaging_tables(op) -> None:
    """For a service's first Alembic migration: create the outbox and the inbox."""
    op.create_table("outbox", *_outbox_columns())
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=text("sent_at IS NULL"))
    op.create_table("inbox", *_inbox_columns())


def drop_messaging_tables(op) -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
