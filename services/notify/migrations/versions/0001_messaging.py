"""Outbox and inbox tables.

Revision ID: 0001
Revises:
"""

from baocao_shared import migrations

revision, down_revision = "0001", None
upgrade, downgrade = migrations.messaging_tables()
