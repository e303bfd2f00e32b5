"""the national regimes, kept from the catalogue: the national roll-up adds figures within one regime only

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision, down_revision = "0009", "0008"


def upgrade() -> None:
    op.create_table(
        "regimes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("doc", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regimes")),
    )


def downgrade() -> None:
    op.drop_table("regimes")
