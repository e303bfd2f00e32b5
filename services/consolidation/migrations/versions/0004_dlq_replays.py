"""the log of replayed dead letters, so a record is sent back at most once (baocao_shared.ops)

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from baocao_shared.messaging.tables import create_dlq_replays_table, drop_dlq_replays_table

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create_dlq_replays_table(op)


def downgrade() -> None:
    drop_dlq_replays_table(op)
