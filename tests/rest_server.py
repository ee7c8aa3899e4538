"""A real nbtrack tracking server for tests: in a thread of the test process, or a subprocess.

``serve_in_thread`` runs ``create_app`` under uvicorn on a socket bound to a
free 127.0.0.1 port before the server starts (no port race), in a background
thread: a fresh server over a fresh store per test costs tens of
milliseconds, where a subprocess would cost a second. ``ServerProcess`` is
the real ``python -m uvicorn`` process that reliability tests SIGKILL and
restart on the same port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ServerProcess", "free_port", "serve_in_thread", "wait_until"]


def free_port() -> int:
    """Return a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float = 30.0, what: str = "the condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it is truthy; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def serve_in_thread(store_uri: str, artifacts_destination: str | None = None) -> Iterator[str]:
    """Serve a store with the real app in a background thread; yield its base URL."""
    import uvicorn

    from nbtrack.server.tracking.app import create_app

    app = create_app(store_uri, artifacts_destination=artifacts_destination)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="nbtrack-test-server", daemon=True
    )
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 30, "the test server to start")
    if not thread.is_alive():
        raise RuntimeError("the test tracking server failed to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # uvicorn notices within 0.1 s and closes the socket; not waiting for it
        # saves each test 0.2 s, and a stopping server touches no file.
        server.should_exit = True


class ServerProcess:
    """``python -m uvicorn`` serving one store on a fixed port, that a test can kill and restart."""

    def __init__(self, store_uri: str, log: Path, port: int | None = None) -> None:
        self.store_uri = store_uri
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process and wait until ``/health`` answers."""
        import httpx

        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        env["NBTRACK_SERVER_BACKEND_STORE_URI"] = self.store_uri
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "nbtrack.server.tracking.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 60, "the server process to answer /health")

    def kill(self) -> None:
        """SIGKILL the process (no shutdown, no flush) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Terminate the process politely."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
