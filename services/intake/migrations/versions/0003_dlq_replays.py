"""the log of replayed dead letters, so a record is sent back at most once (baocao_shared.ops)

Revision ID: 0003
Revises: 0002
"""

from baocao_shared import migrations

revision, down_revision = "0003", "0002"
upgrade, downgrade = migrations.dlq_replays()
