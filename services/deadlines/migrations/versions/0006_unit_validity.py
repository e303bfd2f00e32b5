"""units carry the months they are in force (valid_from / valid_to), filled from their documents

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("units", sa.Column("valid_from", sa.String(7), nullable=True))
    op.add_column("units", sa.Column("valid_to", sa.String(7), nullable=True))
    op.execute("UPDATE units SET valid_from = doc->>'valid_from', valid_to = doc->>'valid_to'")


def downgrade() -> None:
    op.drop_column("units", "valid_to")
    op.drop_column("units", "valid_from")
