"""Traces and spans (OpenTelemetry's span model), linked to runs and prompt versions.

Revision ID: 0008_traces
Revises: 0007_read_write_paths
"""

from __future__ import annotations

revision = "0008_traces"
down_revision = "0007_read_write_paths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
