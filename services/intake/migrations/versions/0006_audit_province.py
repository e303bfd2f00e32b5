"""the audit trail says which province each row concerns, so GET /v1/audit reads one province by an index

Steps: baocao_shared.migrations.audit_province_column.
Revision ID: 0006
Revises: 0005
"""

from baocao_shared import migrations

revision, down_revision = "0006", "0005"
upgrade, downgrade = migrations.audit_province_column()
