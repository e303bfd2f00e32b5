"""failed sign-ins throttled per (username, client address), never per username alone: one index on the pair

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    # Leads with the username, so it also serves clearing a username's failures (a new password).
    op.create_index(
        "ix_login_failures_username_client_at", "login_failures", ["username", "client", "at"], unique=False
    )
    op.drop_index("ix_login_failures_username_at", table_name="login_failures")


def downgrade() -> None:
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"], unique=False)
    op.drop_index("ix_login_failures_username_client_at", table_name="login_failures")
