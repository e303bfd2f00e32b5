"""Tables of the intake database: catalogue, accounts, submissions, idempotency, locks, audit."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from baocao_shared.audit import audit_log_table
from baocao_shared.db import new_metadata
from baocao_shared.messaging.tables import messaging_tables
from baocao_shared.token_access import account_access_table

metadata = new_metadata()
outbox, inbox, dlq_replays = messaging_tables(metadata)
account_access = account_access_table(metadata)  # when each account's tokens are good from


def _now() -> Column:
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


# The catalogue: each row holds the entity exactly as its catalogue event carries it.
provinces = Table(
    "provinces",
    metadata,
    Column("code", String(2), primary_key=True),
    Column("doc", JSONB, nullable=False),
    _now(),
)


def _of_province(name: str, key: Column) -> Table:
    """A catalogue table of entities each province keys on its own (units by code, plans by id)."""
    return Table(
        name,
        metadata,
        Column("province", String(2), nullable=False),
        key,
        Column("active", Boolean, nullable=False),
        Column("doc", JSONB, nullable=False),
        _now(),
        PrimaryKeyConstraint("province", key.name),
    )


units = _of_province("units", Column("code", String(40), nullable=False))
plans = _of_province("plans", Column("id", String(64), nullable=False))
# National regimes (deploy/national/*.yaml): the national office's plans, onto which provinces' plans map.
regimes = Table(
    "regimes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("doc", JSONB, nullable=False),
    _now(),
)

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(80), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(30), nullable=False),
    Column("province", String(2)),
    Column("unit", String(40)),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("province", String(2), nullable=False),
    Column("unit", String(40), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False),
    Column("client", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_failures_username_client_at", "username", "client", "at"),
    Index("ix_login_failures_client_at", "client", "at"),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("province", String(2), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("unit", String(40), nullable=False),
    Column("period", String(7), nullable=False),
    Column("version", Integer, nullable=False),
    Column("values", JSONB, nullable=False),
    Column("narratives", JSONB, nullable=False),
    Column("first_received_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", String(80)),
    UniqueConstraint("province", "plan_id", "unit", "period", name="uq_submissions_unit_period"),
)
submission_versions = Table(
    "submission_versions",
    metadata,
    Column("submission_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("values", JSONB, nullable=False),
    Column("narratives", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", String(80)),
    Column("changes", JSONB, nullable=False),
    # The office imported it for a history period; it came after the close under an exception.
    Column("imported", Boolean, nullable=False, server_default="false"),
    Column("after_close", Boolean, nullable=False, server_default="false"),
    # How it came in (api, web, on_behalf, import), the office's account that entered it for the unit, and where
    # such a report came from (paper, email); null on versions stored before they were recorded.
    Column("channel", String(16)),
    Column("entered_by", String(80)),
    Column("source", String(16)),
    PrimaryKeyConstraint("submission_id", "version"),
    ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
)
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", String(120), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("owner", "key"),
)
period_locks = Table(
    "period_locks",
    metadata,
    Column("province", String(2), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("locked_at", DateTime(timezone=True), nullable=False),
    Column("locked_by", String(80), nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("province", "plan_id", "period"),
)
# The office's exceptions: a unit may still report (or amend) a closed period (like DHIS2's lock exceptions).
period_exceptions = Table(
    "period_exceptions",
    metadata,
    Column("province", String(2), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("unit", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_by", String(80), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("province", "plan_id", "period", "unit"),
)
audit_log = audit_log_table(metadata)
