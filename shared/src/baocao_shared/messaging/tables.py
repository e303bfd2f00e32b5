"""The outbox and inbox tables every service's database holds (no dual writes), and its replay log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
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


def _dlq_replay_columns() -> list:
    return [
        Column("consumer_group", String(200), nullable=False),
        Column("dlq_partition", Integer, nullable=False),
        Column("dlq_offset", BigInteger, nullable=False),
        Column("origin_topic", String(200), nullable=False),
        Column("origin_partition", Integer, nullable=False),
        Column("origin_offset", BigInteger, nullable=False),
        Column("event_id", Uuid),  # None when the record never parsed as an event
        Column("event_type", Text),
        Column("replayed_by", String(200), nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("replayed_to_offset", BigInteger),  # where the copy landed on the origin partition
        PrimaryKeyConstraint("consumer_group", "dlq_partition", "dlq_offset", name="pk_dlq_replays"),
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


def dlq_replays_table(metadata: MetaData) -> Table:
    """Dead-lettered records an operator sent back to their origin topic: one row, so one replay, per record."""
    return Table("dlq_replays", metadata, *_dlq_replay_columns())


def messaging_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """A service's outbox, inbox and dead-letter replay log, in its metadata."""
    return outbox_table(metadata), inbox_table(metadata), dlq_replays_table(metadata)


def create_messaging_tables(op) -> None:
    """For a service's first Alembic migration: create the outbox and the inbox."""
    op.create_table("outbox", *_outbox_columns())
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=text("sent_at IS NULL"))
    op.create_table("inbox", *_inbox_columns())


def drop_messaging_tables(op) -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")


def create_dlq_replays_table(op) -> None:
    """For a service's migration: the log of replayed dead letters (baocao_shared.dlq_replay)."""
    op.create_table("dlq_replays", *_dlq_replay_columns())


def drop_dlq_replays_table(op) -> None:
    op.drop_table("dlq_replays")
