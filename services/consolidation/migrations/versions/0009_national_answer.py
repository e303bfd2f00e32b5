"""reports remember the national office's answer: who returned a published report and why, who accepted it

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0009", "0008"
COLUMNS = (
    ("returned_at", sa.DateTime(timezone=True)),
    ("returned_by", sa.String(80)),
    ("returned_reason", sa.Text),
    ("accepted_at", sa.DateTime(timezone=True)),
    ("accepted_by", sa.String(80)),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("reports", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("reports", name)
