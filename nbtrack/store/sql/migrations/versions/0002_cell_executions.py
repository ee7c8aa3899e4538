"""Log of cell executions per kernel session, for run lineage.

Revision ID: 0002_cell_executions
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_cell_executions"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cell_executions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("cell_id", sa.String(128)),
        sa.Column("execution_count", sa.Integer()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Float(precision=53)),
        sa.Column("ok", sa.Boolean()),
        sa.PrimaryKeyConstraint("id", name="pk_cell_executions"),
    )
    op.create_index("ix_cell_executions_session_id_id", "cell_executions", ["session_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_cell_executions_session_id_id", "cell_executions")
    op.drop_table("cell_executions")
