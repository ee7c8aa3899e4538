"""The notebook path from a real Jupyter server's sessions API, matched by kernel id.

A ``jupyter server`` runs in a subprocess on 127.0.0.1 with a token and its
own runtime folder; a session is created through its REST API, which starts a
kernel. The path is then resolved twice: here, from the kernel id and the
server list, and inside that very kernel, by code sent to it, with every other
hint (``JPY_SESSION_NAME``, ``__session__``) removed.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jupyter_client  # noqa: F401  (talks to the server's kernel)
import jupyter_server  # noqa: F401  (the server under test)
import pytest

from nbtrack.magics._server_sessions import notebook_from_sessions, running_servers

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

_DEADLINE_S = 90


class Server:
    """A running ``jupyter server``: its URL, token, root and runtime folders."""

    def __init__(self, url: str, token: str, root: Path, runtime: Path) -> None:
        self.url, self.token, self.root, self.runtime = url, token, root, runtime

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A ``jupyter server`` subprocess, stopped (with its kernels) in ``finally``."""
    root, runtime = tmp_path / "root", tmp_path / "runtime"
    root.mkdir()
    runtime.mkdir()
    token, port = secrets.token_hex(16), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "NBTRACK_"))}
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--allow-root",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    srv = Server(f"http://127.0.0.1:{port}/", token, root, runtime)
    try:
        deadline = time.monotonic() + _DEADLINE_S
        while True:
            try:
                srv.request("GET", "api/status")
                break
            except (OSError, ValueError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "jupyter server did not start:\n"
                        + (tmp_path / "server.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _run_in_kernel(connection_file: Path, code: str) -> str:
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    out: list[str] = []

    def keep(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    try:
        client.wait_for_ready(timeout=_DEADLINE_S)
        reply = client.execute_interactive(code, output_hook=keep, timeout=_DEADLINE_S)
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def test_notebook_path_from_the_servers_sessions(server: Server) -> None:
    (server.root / "work").mkdir()
    notebook = server.root / "work" / "analysis.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    session = server.request(
        "POST",
        "api/sessions",
        {"path": "work/analysis.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
    )
    try:
        kernel = session["kernel"]["id"]
        servers = running_servers(server.runtime)
        assert [s["url"] for s in servers] == [server.url]
        from jupyter_server.serverapp import list_running_servers

        # The same servers jupyter_server itself lists, without importing it in the kernel.
        assert servers == list(list_running_servers(str(server.runtime)))

        assert notebook_from_sessions(kernel, servers) == str(notebook)
        assert notebook_from_sessions("not-a-kernel", servers) is None
        unreachable = [{**servers[0], "url": f"http://127.0.0.1:{_free_port()}/"}]
        assert notebook_from_sessions(kernel, unreachable, timeout=0.5) is None
        wrong_token = [{**servers[0], "token": "wrong"}]
        assert notebook_from_sessions(kernel, wrong_token) is None

        # Inside the kernel the server started, with the usual hints removed.
        out = _run_in_kernel(
            server.runtime / f"kernel-{kernel}.json",
            "import os\nos.environ.pop('JPY_SESSION_NAME', None)\n"
            "from nbtrack.magics._notebook import notebook_path\n"
            "from nbtrack.magics._server_sessions import kernel_id\n"
            "print(kernel_id())\nprint(notebook_path({}))\n",
        )
        assert out.split() == [kernel, str(notebook)]
    finally:
        server.request("DELETE", f"api/sessions/{session['id']}")


def test_no_servers_no_path(tmp_path: Path) -> None:
    assert running_servers(tmp_path / "missing") == []
    (tmp_path / "jpserver-1.json").write_text("{not json")
    (tmp_path / "jpserver-2.json").write_text(json.dumps({"pid": 2**22 + 12345, "url": "x"}))
    assert running_servers(tmp_path) == []
    assert notebook_from_sessions("k", [{"url": "not a url"}]) is None
