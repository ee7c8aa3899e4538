"""Servers for the artifact proxy tests: the proxy routes alone, in a thread or a process.

``serve_routes`` runs a Starlette app holding only ``artifacts.routes()`` (or
any app given, such as ``create_app``'s) under uvicorn in a background thread,
on a socket bound before the server starts (no port race). ``ServerProcess``
is the real tracking server in its own process, whose RSS a test can watch
while gigabytes stream through it.
Streaming helpers make and hash deterministic bytes chunk by chunk, so neither
side ever holds a whole large body.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "ServerProcess",
    "pattern_chunks",
    "serve_routes",
    "wait_until",
]

MiB = 1024 * 1024


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "it") -> Any:
    """Poll ``predicate`` until it is truthy; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return value


def routes_app(destination: str) -> Any:
    """A Starlette app with only the artifact proxy routes, over ``destination``."""
    from starlette.applications import Starlette

    from nbtrack.server.tracking import artifacts

    app = Starlette(routes=artifacts.routes())
    app.state.artifacts_destination = destination
    return app


@contextlib.contextmanager
def serve_routes(destination: str, app: Any = None) -> Iterator[str]:
    """Serve ``app`` (by default the routes over ``destination``) in a thread; yield its URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app or routes_app(destination), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 30, "the proxy server to start")
    if not thread.is_alive():
        raise RuntimeError("the proxy server failed to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class ServerProcess:
    """``nbtrack server --artifacts-destination <destination>`` in a child process.

    One worker, so uvicorn serves in the command's own process and its RSS is
    the server's. The backend store is a fresh folder under ``workdir``; ``env``
    adds variables (the S3 endpoint and credentials) for the child.
    """

    def __init__(self, destination: str, workdir: Path, env: dict[str, str] | None = None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        child_env.update(env or {})
        args = [sys.executable, "-m", "nbtrack", "server", "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--backend-store-uri", str(workdir / "store")]
        args += ["--artifacts-destination", destination]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, env=child_env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        """Block until the server answers a request."""
        import httpx

        def answering() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answering, 60, "the server process to answer /health")

    def stop(self) -> None:
        """Terminate the process and reap it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def pattern_chunks(total: int, digest: Any, chunk: int = MiB) -> Iterator[bytes]:
    """Yield ``total`` deterministic, non-repeating bytes in ``chunk``s, feeding ``digest``.

    Each chunk is a fixed random block with its index in front, so no two chunks
    are equal (a swapped or repeated chunk changes the hash) and making them costs
    nothing next to the transfer.
    """
    block = hashlib.shake_256(b"nbtrack").digest(chunk)
    sent, index = 0, 0
    while sent < total:
        size = min(chunk, total - sent)
        data = (index.to_bytes(8, "big") + block[8:size])[:size]
        digest.update(data)
        yield data
        sent += size
        index += 1
