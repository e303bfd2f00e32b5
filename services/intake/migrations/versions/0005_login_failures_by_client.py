"""failed sign-ins counted per client address too, so one client cannot spray a password over many accounts

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_at", table_name="login_failures")
