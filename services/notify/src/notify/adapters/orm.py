"""Tables of the notify database: the catalogue it follows, the documents it attaches, deliveries, waiting notices
and the in-app inbox."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from baocao_shared.catalog_replica import replica_tables
from baocao_shared.db import new_metadata
from baocao_shared.messaging.tables import messaging_tables
from baocao_shared.token_access import account_access_table

metadata = new_metadata()
outbox, inbox, dlq_replays = messaging_tables(metadata)
account_access = account_access_table(metadata)  # when each account's tokens are good from

# The catalogue as consumed from baocao.catalog (the entity documents, latest wins).
provinces, units, plans = replica_tables(metadata)

# The documents frozen at publishing (report.document_issued), by their SHA-256: the signed PDF a mail attaches.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("province", String(2), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("period", String(10), nullable=False),
    Column("number", String(100), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# One message to one recipient on one channel, caused by one event. The consumer only inserts
# (pending); the sender claims, sends and settles it (sent | failed).
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cause_event_id", Uuid, nullable=False),
    Column("cause_type", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Column("plan_id", String(64)),
    Column("period", String(10)),
    Column("unit", String(40)),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(500), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("recipient_label", String(300)),
    Column("document_sha256", String(64), ForeignKey("documents.sha256")),
    Column("document_filename", String(255)),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("cause_event_id", "recipient", "channel", name="uq_deliveries_once"),
    Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_deliveries_province_period", "province", "period"),
)

# A notice whose unit, or plan (a published report's units), or else whose province notify's catalogue does
# not know yet: baocao.catalog and the notice topics are not ordered together. That unit's, plan's or
# province's upsert turns it into deliveries, under its own event id, and deletes it.
waiting_notices = Table(
    "waiting_notices",
    metadata,
    Column("cause_event_id", Uuid, primary_key=True),
    Column("cause_type", String(100), nullable=False),
    Column("province", String(2), nullable=False),
    Column("unit", String(40)),
    Column("plan_id", String(64)),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("ix_waiting_notices_addressee", "province", "unit"),
)

# The in-app inbox (hộp thư trong ứng dụng): messages addressed to an account name.
inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, nullable=False, unique=True),
    Column("recipient", String(500), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("read_at", DateTime(timezone=True)),
)
