"""account_access: per account, whether it is active and from when its tokens are good (baocao_shared.token_access)

Revision ID: 0006
Revises: 0005
"""

from baocao_shared import migrations

revision, down_revision = "0006", "0005"
upgrade, downgrade = migrations.account_access()
