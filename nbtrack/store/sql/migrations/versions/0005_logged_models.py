"""MLflow 3's logged models, with their params and tags.

Revision ID: 0005_logged_models
Revises: 0004_team_server
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_logged_models"
down_revision = "0004_team_server"
branch_labels = None
depends_on = None


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["logged_models.model_id"],
        ondelete="CASCADE",
        name=f"fk_{table}_model_id_logged_models",
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("status_message", sa.String(1000)),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_logged_models_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
    )
    op.create_index(
        "ix_logged_models_experiment_id_creation_timestamp_ms",
        "logged_models",
        ["experiment_id", "creation_timestamp_ms"],
    )
    for table in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(64), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            _model_fk(table),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
        )


def downgrade() -> None:
    for table in ("logged_model_tags", "logged_model_params", "logged_models"):
        op.drop_table(table)
