"""account_access: per account, whether it is active and from when its tokens are good (baocao_shared.token_access)

Revision ID: 0011
Revises: 0010
"""

from baocao_shared import migrations

revision, down_revision = "0011", "0010"
upgrade, downgrade = migrations.account_access()
