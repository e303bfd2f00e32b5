"""account_access: per account, whether it is active and from when its tokens are good (baocao_shared.token_access)

Revision ID: 0008
Revises: 0007
"""

from baocao_shared import migrations

revision, down_revision = "0008", "0007"
upgrade, downgrade = migrations.account_access()
