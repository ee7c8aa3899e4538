"""Sync state: what ``nbtrack sync`` has sent to each target, so the next sync sends only news.

Per (target, run): the id the run has there, the params and tags sent (key →
value digest), the status and end time sent, and a digest of the whole run as
last sent (the fast "nothing changed" check); per (target, run, metric key):
how many points went and up to which (step, timestamp); per (target, run,
artifact path): the size and SHA-256 sent. ``sync_objects`` maps experiments,
registered models and model versions to their ids on the target.

Revision ID: 0006_sync_state
Revises: 0005_logged_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sync_state"
down_revision = "0005_logged_models"
branch_labels = None
depends_on = None


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    # A run's metric and artifact rows go with its row.
    return sa.ForeignKeyConstraint(
        ["target", "run_id"],
        ["sync_runs.target", "sync_runs.run_id"],
        ondelete="CASCADE",
        name=f"fk_{table}_target_sync_runs",
    )


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("remote_run_id", sa.String(32), nullable=False),
        sa.Column("remote_experiment_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20)),
        sa.Column("end_time", sa.BigInteger()),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64)),
        sa.Column("synced_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target", "run_id", name="pk_sync_runs"),
    )
    op.create_table(
        "sync_metrics",
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("max_step", sa.BigInteger(), nullable=False),
        sa.Column("max_timestamp", sa.BigInteger(), nullable=False),
        _run_fk("sync_metrics"),
        sa.PrimaryKeyConstraint("target", "run_id", "key", name="pk_sync_metrics"),
    )
    op.create_table(
        "sync_artifacts",
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _run_fk("sync_artifacts"),
        sa.PrimaryKeyConstraint("target", "run_id", "path", name="pk_sync_artifacts"),
    )
    op.create_table(
        "sync_objects",
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("local_id", sa.String(500), nullable=False),
        sa.Column("remote_id", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(64)),
        sa.Column("synced_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target", "kind", "local_id", name="pk_sync_objects"),
    )


def downgrade() -> None:
    for table in ("sync_objects", "sync_artifacts", "sync_metrics", "sync_runs"):
        op.drop_table(table)
