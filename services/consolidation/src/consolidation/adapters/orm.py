"""Tables of the consolidation database: the catalogue it follows, the latest unit reports, the
obligations as deadlines sees them, and each consolidated report's workflow."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from baocao_shared.audit import audit_log_table
from baocao_shared.catalog_replica import replica_tables
from baocao_shared.db import new_metadata
from baocao_shared.messaging.tables import messaging_tables
from baocao_shared.token_access import account_access_table

metadata = new_metadata()
outbox, inbox, dlq_replays = messaging_tables(metadata)
account_access = account_access_table(metadata)  # when each account's tokens are good from

provinces, units, plans = replica_tables(metadata)

# The national regimes (vn.baocao.regime.upserted.v1): the national roll-up adds figures within one regime only.
regimes = Table(
    "regimes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("doc", JSONB, nullable=False),
)

REPORT_KEY = ("province", "plan_id", "period")  # a province's report for a plan and period
UNIT_KEY = (*REPORT_KEY, "unit")  # a unit's part in it


KEY_SIZES = {"province": 2, "plan_id": 64, "period": 10, "unit": 40}


def _key(*, unit: bool = False) -> list[Column]:
    """A table's key columns (new Column objects for each table)."""
    return [Column(name, String(KEY_SIZES[name]), nullable=False) for name in (UNIT_KEY if unit else REPORT_KEY)]


# The latest version of each unit's report for a period: a higher version wins, whatever the order.
unit_reports = Table(
    "unit_reports",
    metadata,
    *_key(unit=True),
    Column("submission_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("first_received_at", DateTime(timezone=True), nullable=False),
    Column("values", JSONB, nullable=False),
    Column("narratives", JSONB, nullable=False),
    # The staff office imported it for a period before the province's start of tracking (history).
    Column("imported", Boolean, nullable=False, server_default="false"),
    PrimaryKeyConstraint(*UNIT_KEY),
)

# Timeliness as deadlines publishes it (obligation.updated, and period.closed for the final word).
obligations = Table(
    "obligations",
    metadata,
    *_key(unit=True),
    Column("status", String(12), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("late_by_s", Integer),
    Column("final", Boolean, nullable=False),
    PrimaryKeyConstraint(*UNIT_KEY),
)
period_closes = Table(
    "period_closes",
    metadata,
    *_key(),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint(*REPORT_KEY),
)

# The workflow of each consolidated report; `content` is the snapshot sent up when published.
reports = Table(
    "reports",
    metadata,
    *_key(),
    Column("status", String(12), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("status_reason", Text),
    Column("status_at", DateTime(timezone=True)),  # when the stored state was reached
    Column("approved_at", DateTime(timezone=True)),
    Column("approved_by", String(80)),
    Column("published_at", DateTime(timezone=True)),
    Column("published_by", String(80)),
    Column("content", JSONB),
    Column("version", Integer, nullable=False, server_default="0"),  # counts the office's edits
    # The national office's answer: returned to the province (while a draft again), or accepted (final).
    Column("returned_at", DateTime(timezone=True)),
    Column("returned_by", String(80)),
    Column("returned_reason", Text),
    Column("accepted_at", DateTime(timezone=True)),
    Column("accepted_by", String(80)),
    PrimaryKeyConstraint(*REPORT_KEY),
)

# What the staff office wrote in each section; `sources` fingerprints each unit's part under it then.
report_sections = Table(
    "report_sections",
    metadata,
    *_key(),
    Column("key", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("version", Integer, nullable=False),  # the report's version this edit made
    Column("edited_by", String(80), nullable=False),
    Column("edited_at", DateTime(timezone=True), nullable=False),
    Column("sources", JSONB, nullable=False),
    PrimaryKeyConstraint(*REPORT_KEY, "key"),
)

# The province's register of outgoing documents (sổ văn bản đi): the last number given in each year.
document_register = Table(
    "document_register",
    metadata,
    Column("province", String(2), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last_number", Integer, nullable=False),
    PrimaryKeyConstraint("province", "year"),
)

# The documents frozen at publishing, byte for byte: every download returns these.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    *_key(),
    Column("kind", String(8), nullable=False),
    Column("number", String(64), nullable=False),
    Column("media_type", String(120), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("signed_by", Text),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("documents_by_report", "province", "plan_id", "period", "kind"),
)
audit_log = audit_log_table(metadata)
