"""the log of replayed dead letters, so a record is sent back at most once (baocao_shared.ops)

Revision ID: 0004
Revises: 0003
"""

from baocao_shared import migrations

revision, down_revision = "0004", "0003"
upgrade, downgrade = migrations.dlq_replays()
