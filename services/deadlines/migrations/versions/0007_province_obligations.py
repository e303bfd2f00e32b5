"""the national level: each province owes its consolidated report of a plan's period to the national office

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "province_obligations",
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("first_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("province", "plan_id", "period"),
    )
    op.create_index("ix_province_obligations_period", "province_obligations", ["period"])
    # The scheduler looks at every plan again: its periods still in progress get the provinces' obligations and
    # the national level's schedule (notices already past are skipped, as at any opening).
    op.execute("UPDATE plans SET changed = true")


def downgrade() -> None:
    op.drop_index("ix_province_obligations_period", table_name="province_obligations")
    op.drop_table("province_obligations")
