"""Alembic environment: runs migrations on the connection nbtrack hands over."""

from __future__ import annotations

from alembic import context

from nbtrack.store.sql.schema import SqlBase

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SqlBase.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
