"""Alembic migrations of the SQL store, shipped inside the package.

``REVISIONS`` lists every revision in order; the store compares the revision
recorded in a database against it without importing Alembic, and imports
Alembic only when an upgrade is due.
"""

from __future__ import annotations

from pathlib import Path

REVISIONS: tuple[str, ...] = (
    "0001_initial",
    "0002_cell_executions",
    "0003_model_registry",
    "0004_team_server",
    "0005_logged_models",
    "0006_sync_state",
    "0007_read_write_paths",
    "0008_traces",
)
HEAD = REVISIONS[-1]
SCRIPT_LOCATION = str(Path(__file__).parent)
