"""the audit trail's refusal names the statement refused and says what to do instead

Steps: baocao_shared.migrations.audit_refusal_names_the_statement.
Revision ID: 0004
Revises: 0003
"""

from baocao_shared import migrations

revision, down_revision = "0004", "0003"
upgrade, downgrade = migrations.audit_refusal_names_the_statement()
