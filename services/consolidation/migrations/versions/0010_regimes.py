"""the national regimes, kept from the catalogue: the national roll-up adds figures within one regime only

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision, down_revision = "0010", "0009"


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
