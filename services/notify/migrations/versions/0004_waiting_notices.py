"""waiting_notices: notices kept until notify's catalogue knows their unit or province

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "waiting_notices",
        sa.Column("cause_event_id", sa.Uuid(), nullable=False),
        sa.Column("cause_type", sa.String(length=100), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("cause_event_id", name=op.f("pk_waiting_notices")),
    )
    op.create_index("ix_waiting_notices_addressee", "waiting_notices", ["province", "unit"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_waiting_notices_addressee", table_name="waiting_notices")
    op.drop_table("waiting_notices")
