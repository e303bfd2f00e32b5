"""A service of the ops tests: the messaging tables, the replay log, and the effects its handlers leave.

Revision ID: 0001
Revises:
"""

from alembic import op

from baocao_shared.messaging.tables import create_dlq_replays_table, create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)
    create_dlq_replays_table(op)
    op.execute("CREATE TABLE effects (event_id uuid NOT NULL, applied_by text NOT NULL)")


def downgrade() -> None:
    op.execute("DROP TABLE effects")
