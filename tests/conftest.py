"""Shared fixtures: an isolated working folder, clean global state, and stores on both backends.

``tracking_uri`` is parametrised over a real SQLite file and, when
``NBTRACK_TEST_POSTGRES_URI`` is set (``.ci/run`` sets it), a real PostgreSQL
database with a fresh schema per test. On CI the variable is required.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URI = os.environ.get("NBTRACK_TEST_POSTGRES_URI")

# Models in the tests load from installed packages; the Hub must never be asked.
# huggingface_hub reads this once, when first imported: set before any test runs.
os.environ["HF_HUB_OFFLINE"] = "1"

# jp_fetch and friends: a real Jupyter server per test (tests/server/).
pytest_plugins = ["pytest_jupyter.jupyter_server"]

if os.environ.get("CI") and not POSTGRES_URI:
    raise RuntimeError("CI must run the PostgreSQL tests: set NBTRACK_TEST_POSTGRES_URI")

BACKENDS = ["sqlite"] + (
    [pytest.param("postgres", marks=pytest.mark.postgres)] if POSTGRES_URI else []
)


def _reset_nbtrack_state() -> None:
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
    fluent._active_experiment_id = None
    fluent._last_run_id = None
    fluent._env_run_attached = False
    fluent._clients.clear()
    client._writable_runs.clear()
    config.set_tracking_uri(None)
    factory.forget_stores()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hide the developer's NBTRACK_* variables and reset nbtrack's globals around each test."""
    for name in list(os.environ):
        if name.startswith("NBTRACK_") and name != "NBTRACK_TEST_POSTGRES_URI":
            monkeypatch.delenv(name)
    _reset_nbtrack_state()
    yield
    _reset_nbtrack_state()


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test inside an empty folder (so the default store lands there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


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
        _reset_nbtrack_state()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def tracking_uri(request: pytest.FixtureRequest, tmp_dir: Path) -> Iterator[str]:
    """A fresh store's URI, set as the tracking URI: SQLite file, then PostgreSQL."""
    import nbtrack

    if request.param == "sqlite":
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


@pytest.fixture
def client(tracking_uri: str):  # type: ignore[no-untyped-def]
    """An ``nbtrack.Client`` on the fresh store."""
    import nbtrack

    return nbtrack.Client(tracking_uri)
