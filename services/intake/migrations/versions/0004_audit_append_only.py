"""the audit trail's refusal names the statement refused and says what to do instead

The trigger of 0002 already refuses UPDATE, DELETE and TRUNCATE on audit_log; its message only said
"audit_log is append-only". Now it names the statement, carries SQLSTATE 42501 (insufficient_privilege)
and a hint, so an operator who tries to "fix" a row learns why it failed and how corrections are made.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"

# asyncpg prepares each statement: one command per execute().
CLEAR = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'The audit trail is never changed or erased; record a correction as a new audit row.';
END $$"""

TERSE = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$"""


def upgrade() -> None:
    op.execute(CLEAR)


def downgrade() -> None:
    op.execute(TERSE)
