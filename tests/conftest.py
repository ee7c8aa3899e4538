"""Shared fixtures: an isolated working folder, clean global state, and stores on both backends.

``tracking_uri`` is parametrised over a real SQLite file, a real nbtrack
server (``http://127.0.0.1:<port>``, the REST store, over a fresh SQLite store
per test) and, when ``NBTRACK_TEST_POSTGRES_URI`` is set (``.ci/run`` sets it),
a real PostgreSQL database with a fresh schema per test. On CI the variable is
required. A test about something only SQL stores have (pragmas, the database
file) asks for ``sql_tracking_uri`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, POSTGRES_URI, SQL_BACKENDS, reset_nbtrack_state, store_uri

# Models in the tests load from installed packages; the Hub must never be asked.
# huggingface_hub reads this once, when first imported: set before any test runs.
os.environ["HF_HUB_OFFLINE"] = "1"

# jp_fetch and friends: a real Jupyter server per test (tests/server/).
pytest_plugins = ["pytest_jupyter.jupyter_server"]

if os.environ.get("CI") and not POSTGRES_URI:
    raise RuntimeError("CI must run the PostgreSQL tests: set NBTRACK_TEST_POSTGRES_URI")

_reset_nbtrack_state = reset_nbtrack_state
__all__ = ["BACKENDS", "SQL_BACKENDS"]


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


@pytest.fixture(params=BACKENDS)
def tracking_uri(request: pytest.FixtureRequest, tmp_dir: Path) -> Iterator[str]:
    """A fresh store's URI, set as the tracking URI: SQLite file, nbtrack server, PostgreSQL."""
    yield from store_uri(request.param, tmp_dir)


@pytest.fixture(params=SQL_BACKENDS)
def sql_tracking_uri(request: pytest.FixtureRequest, tmp_dir: Path) -> Iterator[str]:
    """As ``tracking_uri``, for tests of what only SQL stores have (no REST backend)."""
    yield from store_uri(request.param, tmp_dir)


@pytest.fixture
def client(tracking_uri: str):  # type: ignore[no-untyped-def]
    """An ``nbtrack.Client`` on the fresh store."""
    import nbtrack

    return nbtrack.Client(tracking_uri)
