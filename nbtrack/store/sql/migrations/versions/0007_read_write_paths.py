"""Indexes and constraints for the hot read and write paths (runs search, W4/W5 reads, ingest).

Revision ID: 0007_read_write_paths
Revises: 0006_sync_state
"""

from __future__ import annotations

revision = "0007_read_write_paths"
down_revision = "0006_sync_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
