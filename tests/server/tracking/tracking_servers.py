"""Start and stop real ``nbtrack server`` processes for tests (the fixtures in ``conftest.py``).

A module of its own (not ``conftest``) so that test modules can import it by a
unique name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["RunningServer", "free_port", "start_server", "stop_server"]


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
