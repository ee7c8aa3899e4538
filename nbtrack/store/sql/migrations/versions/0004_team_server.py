"""The team server's tables: request receipts (exactly-once writes) and --auth users.

Revision ID: 0004_team_server
Revises: 0003_model_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_team_server"
down_revision = "0003_model_registry"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], ondelete="CASCADE", name=f"fk_{table}_user_id_users"
    )


def upgrade() -> None:
    op.create_table(
        "request_receipts",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_request_receipts"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.String(512), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("creation_time", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(256)),
        sa.Column("creation_time", sa.BigInteger()),
        sa.Column("expiry_time", sa.BigInteger()),
        _user_fk("access_tokens"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_access_tokens"),
    )
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])
    op.create_table(
        "experiment_permissions",
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        _user_fk("experiment_permissions"),
        sa.PrimaryKeyConstraint("experiment_id", "user_id", name="pk_experiment_permissions"),
    )
    op.create_table(
        "registered_model_permissions",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(32), nullable=False),
        _user_fk("registered_model_permissions"),
        sa.PrimaryKeyConstraint("name", "user_id", name="pk_registered_model_permissions"),
    )


def downgrade() -> None:
    for table in (
        "registered_model_permissions",
        "experiment_permissions",
        "access_tokens",
        "users",
        "request_receipts",
    ):
        op.drop_table(table)
