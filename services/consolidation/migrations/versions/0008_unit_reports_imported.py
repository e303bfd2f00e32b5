"""a unit's report remembers whether the staff office imported it for a period before tracking (history)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    op.add_column("unit_reports", sa.Column("imported", sa.Boolean, nullable=False, server_default="false"))


def downgrade() -> None:
    op.drop_column("unit_reports", "imported")
