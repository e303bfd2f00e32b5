"""the audit trail says which province each row concerns, so GET /v1/audit reads one province by an index

A generated column: PostgreSQL derives it from the subject (period:/unit:/report:/province: name the province
first) or else from details.province (a submission, an account). Adding it rewrites the table without firing the
append-only trigger (no row is updated), and rows written later get it without the handlers knowing.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from baocao_shared.audit import PROVINCE_OF_ROW

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute(f"ALTER TABLE audit_log ADD COLUMN province text GENERATED ALWAYS AS ({PROVINCE_OF_ROW}) STORED")
    op.create_index("ix_audit_log_province_id", "audit_log", ["province", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_province_id", table_name="audit_log")
    op.execute("ALTER TABLE audit_log DROP COLUMN province")
