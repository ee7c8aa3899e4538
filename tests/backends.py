"""The stores every backend-parametrised test runs on, and the reset of nbtrack's globals.

Kept out of ``conftest.py`` so test modules can import them (``from backends
import SQL_BACKENDS``): several folders have a ``conftest`` of their own.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["BACKENDS", "POSTGRES_URI", "SQL_BACKENDS", "reset_nbtrack_state", "store_uri"]

POSTGRES_URI = os.environ.get("NBTRACK_TEST_POSTGRES_URI")

SQL_BACKENDS = ["sqlite"] + (
    [pytest.param("postgres", marks=pytest.mark.postgres)] if POSTGRES_URI else []
)
BACKENDS = [*SQL_BACKENDS, "rest"]


def reset_nbtrack_state() -> None:
    """End the runs left active, drop queued points, forget stores and the tracking URI."""
    from nbtrack import config
    from nbtrack.store import factory
    from nbtrack.tracking import buffer, client, fluent

    for stack_owner in (fluent._local,):
        for run in reversed(getattr(stack_owner, "stack", [])):
            # The store may already be gone.
            with contextlib.suppress(Exception):
                run._client.set_terminated(run.info.run_id, "KILLED")
        stack_owner.stack = []
    for buf in list(buffer._buffers.values()):
        buf._points.clear()
        buf._batches.clear()
    fluent._active_experiment_id = None
    fluent._last_run_id = None
    fluent._env_run_attached = False
    fluent._clients.clear()
    client._writable_runs.clear()
    config.set_tracking_uri(None)
    factory.forget_stores()


def _postgres_schema_uri() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    assert POSTGRES_URI
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URI)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URI else "?"
    try:
        yield f"{POSTGRES_URI}{sep}options=-csearch_path%3D{schema}"
    finally:
        reset_nbtrack_state()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def store_uri(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Yield a fresh store of ``backend`` (sqlite, postgres or rest), set as the tracking URI."""
    import nbtrack

    if backend == "rest":
        from rest_server import serve_in_thread

        # The server's files live outside the test's working folder, as on another machine.
        server_dir = tmp_dir.parent / f"{tmp_dir.name}-server"
        with serve_in_thread(str(server_dir / "store")) as url:
            nbtrack.set_tracking_uri(url)
            try:
                yield url
            finally:
                reset_nbtrack_state()  # end the test's runs while the server still answers
        return
    if backend == "sqlite":
        uri = str(tmp_dir / "store")
        nbtrack.set_tracking_uri(uri)
        yield uri
        return
    os.environ["NBTRACK_ARTIFACT_ROOT"] = str(tmp_dir / "pg-artifacts")
    try:
        for uri in _postgres_schema_uri():
            nbtrack.set_tracking_uri(uri)
            yield uri
    finally:
        os.environ.pop("NBTRACK_ARTIFACT_ROOT", None)
