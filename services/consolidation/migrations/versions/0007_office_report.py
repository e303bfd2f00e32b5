"""the office's report: the sections it writes (and the report's version), the register of outgoing
documents, and the documents frozen at publishing

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision, down_revision = "0007", "0006"


def _report_key() -> list[sa.Column]:
    """A report's key columns (new Column objects for each table)."""
    return [
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("reports", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "report_sections",
        *_report_key(),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("edited_by", sa.String(80), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sources", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("province", "plan_id", "period", "key"),
    )
    op.create_table(
        "document_register",
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("last_number", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("province", "year"),
    )
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(64), primary_key=True),
        *_report_key(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(120), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("signed_by", sa.Text),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.create_index("documents_by_report", "documents", ["province", "plan_id", "period", "kind"])


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_table("document_register")
    op.drop_table("report_sections")
    op.drop_column("reports", "version")
