"""A real ``nbtrack server`` process for the tracking-server tests, one per test module.

``tracking_server`` yields the base URL of ``python -m nbtrack server`` on a
free 127.0.0.1 port over a fresh SQLite store, with artifacts in a fresh
folder; ``tracking_server_store`` is that store's folder, for tests that read
what the server wrote through ``nbtrack.Client`` directly. Module-scoped: a
server process costs about a second to start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking_servers import RunningServer, start_server, stop_server


@pytest.fixture(scope="module")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The module's server process, with where its store and artifacts are."""
    root = tmp_path_factory.mktemp("tracking-server")
    store, artifacts, log = root / "store", root / "artifacts", root / "server.log"
    proc, url = start_server(str(store), str(artifacts), log)
    try:
        yield RunningServer(url, store, artifacts, log)
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def tracking_server(running_server: RunningServer) -> str:
    """Base URL (``http://127.0.0.1:<port>``) of a real ``nbtrack server`` over a fresh store."""
    return running_server.url


@pytest.fixture(scope="module")
def tracking_server_store(running_server: RunningServer) -> Path:
    """The folder of the store ``tracking_server`` serves (open it with ``nbtrack.Client``)."""
    return running_server.store
