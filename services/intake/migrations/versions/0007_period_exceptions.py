"""the office's exceptions to a closed period, and each version says whether it was imported or came after the close

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "period_exceptions",
        sa.Column("province", sa.String(2), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("granted_by", sa.String(80), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province", "plan_id", "period", "unit", name=op.f("pk_period_exceptions")),
    )
    for column in ("imported", "after_close"):
        op.add_column(
            "submission_versions", sa.Column(column, sa.Boolean, nullable=False, server_default=sa.text("false"))
        )


def downgrade() -> None:
    op.drop_column("submission_versions", "after_close")
    op.drop_column("submission_versions", "imported")
    op.drop_table("period_exceptions")
