"""documents (the signed PDF a published report's mails attach); deliveries name their recipient and document;
notices wait for a plan too

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_documents")),
    )
    op.add_column("deliveries", sa.Column("recipient_label", sa.String(length=300), nullable=True))
    op.add_column("deliveries", sa.Column("document_sha256", sa.String(length=64), nullable=True))
    op.add_column("deliveries", sa.Column("document_filename", sa.String(length=255), nullable=True))
    op.create_foreign_key(
        op.f("fk_deliveries_document_sha256_documents"), "deliveries", "documents", ["document_sha256"], ["sha256"]
    )
    op.add_column("waiting_notices", sa.Column("plan_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("waiting_notices", "plan_id")
    op.drop_constraint(op.f("fk_deliveries_document_sha256_documents"), "deliveries", type_="foreignkey")
    op.drop_column("deliveries", "document_filename")
    op.drop_column("deliveries", "document_sha256")
    op.drop_column("deliveries", "recipient_label")
    op.drop_table("documents")
