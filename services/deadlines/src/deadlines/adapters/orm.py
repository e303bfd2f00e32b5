"""Tables of the deadlines database: the catalogue it follows, obligations, periods and the schedule."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from baocao_shared.catalog_replica import replica_tables
from baocao_shared.db import new_metadata
from baocao_shared.messaging.tables import messaging_tables
from baocao_shared.token_access import account_access_table

metadata = new_metadata()
outbox, inbox, dlq_replays = messaging_tables(metadata)
account_access = account_access_table(metadata)  # when each account's tokens are good from


def of_a_period() -> list[Column]:
    """The key every table of the schedule starts with: a plan's period in a province."""
    return [
        Column("province", String(2), nullable=False),
        Column("plan_id", String(64), nullable=False),
        Column("period", String(10), nullable=False),
    ]


# The catalogue as consumed from baocao.catalog; `changed` tells the scheduler to look at a plan again. The months a
# unit is in force (baocao_shared.structure; both inclusive, NULL: open-ended) are columns for the set-based SQL of
# who owes a period (adapters/obligations.py), kept from the unit's document.
provinces, units, plans = replica_tables(
    metadata,
    plan_columns=[Column("changed", Boolean, nullable=False, server_default=text("true"))],
    unit_columns=[Column("valid_from", String(7)), Column("valid_to", String(7))],
)

# One row per plan period the scheduler has opened; its lock serialises work on that period.
periods = Table(
    "periods",
    metadata,
    *of_a_period(),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("province", "plan_id", "period"),
)

# What a unit owes for one period (nghĩa vụ báo cáo), and what has arrived. A submission may
# arrive before the period is opened here (topics are not ordered together): then due_at waits.
obligations = Table(
    "obligations",
    metadata,
    *of_a_period(),
    Column("unit", String(40), nullable=False),
    Column("due_at", DateTime(timezone=True)),
    Column("expected", Boolean, nullable=False, server_default=text("false")),
    Column("first_submitted_at", DateTime(timezone=True)),
    Column("submission_id", Uuid),
    Column("last_version", Integer, nullable=False, server_default=text("0")),
    Column("last_received_at", DateTime(timezone=True)),
    Column("amended_after_due", Boolean, nullable=False, server_default=text("false")),
    # A version was accepted after the close under the office's exception: a first one then counts, late.
    Column("after_close", Boolean, nullable=False, server_default=text("false")),
    # When obligation.updated told the others about the first submission (once due_at is known).
    Column("announced_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("province", "plan_id", "period", "unit"),
)

# The national level (issue 18 §1): what a province owes the national office for one plan's period, its consolidated
# report, and when it was first published (report.published). `due_at` is the province's deadline
# (baocao_shared.calendar.province_due_at), NULL while the period is not opened here (a publication may come first);
# `closed_at` is the national close (the plan's close offsets counted from the province's deadline).
province_obligations = Table(
    "province_obligations",
    metadata,
    *of_a_period(),
    Column("due_at", DateTime(timezone=True)),
    Column("expected", Boolean, nullable=False, server_default=text("false")),
    Column("first_published_at", DateTime(timezone=True)),
    Column("last_published_at", DateTime(timezone=True)),
    Column("announced_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("province", "plan_id", "period"),
    Index("ix_province_obligations_period", "period"),
)

# Period-level schedule: each row fires once, fanning out to the obligations that qualify then.
scheduled_items = Table(
    "scheduled_items",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    *of_a_period(),
    Column("kind", String(20), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("day_offset", Integer, nullable=False),
    Column("fire_at", DateTime(timezone=True), nullable=False),
    Column("state", String(12), nullable=False, server_default="pending"),
    Column("fired_at", DateTime(timezone=True)),
    UniqueConstraint("province", "plan_id", "period", "kind", "sequence", name="uq_scheduled_items_slot"),
    Index("ix_scheduled_items_due", "fire_at", postgresql_where=text("state = 'pending'")),
)

# Each (obligation, kind, sequence) is noticed at most once: the insert decides, in the same
# transaction as the outbox row.
notices = Table(
    "notices",
    metadata,
    *of_a_period(),
    Column("unit", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("requested_by", String(80)),
    Column("message", Text),
    PrimaryKeyConstraint("province", "plan_id", "period", "unit", "kind", "sequence"),
)
