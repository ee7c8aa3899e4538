"""A real ``nbtrack server`` process for the tracking-server tests, one per test module.

``tracking_server`` yields the base URL of ``python -m nbtrack server`` on a
free 127.0.0.1 port over a fresh SQLite store, with artifacts in a fresh
folder; ``tracking_server_store`` is that store's folder, for tests that read
what the server wrote through ``nbtrack.Client`` directly. Module-scoped: a
server process costs about a second to start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass(frozen=True)
class RunningServer:
    """A started server: its URL, backend store, artifacts destination and log file."""

    url: str
    store: Path
    artifacts: Path
    log: Path


def free_port() -> int:
    """Return a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    store_uri: str, artifacts: str, log: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``nbtrack server`` and wait until ``/health`` answers; return it and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    args = [
        sys.executable,
        "-m",
        "nbtrack",
        "server",
        "--port",
        str(port),
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        artifacts,
        *extra,
    ]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # bounds a hang only
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"nbtrack server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"nbtrack server did not answer: {log.read_text()[-3000:]}")
        time.sleep(0.05)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by :func:`start_server` and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


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
