"""each version says how it came in (channel), which office account entered it on the unit's behalf, and from where

Versions the office imported before this are marked channel 'import', entered by the account that sent them; the
others stay unknown (null): whether a unit used the API or its form was not recorded.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.add_column("submission_versions", sa.Column("channel", sa.String(16)))
    op.add_column("submission_versions", sa.Column("entered_by", sa.String(80)))
    op.add_column("submission_versions", sa.Column("source", sa.String(16)))
    op.execute("UPDATE submission_versions SET channel = 'import', entered_by = submitted_by WHERE imported")


def downgrade() -> None:
    for column in ("source", "entered_by", "channel"):
        op.drop_column("submission_versions", column)
