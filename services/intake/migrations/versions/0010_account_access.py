"""account_access: per account, whether it is active and from when its tokens are good (baocao_shared.token_access)

Revision ID: 0010
Revises: 0009
"""

from baocao_shared import migrations

revision, down_revision = "0010", "0009"
upgrade, downgrade = migrations.account_access()
