"""Browser-test fixtures: a real JupyterLab on 127.0.0.1 with a token and a temporary root.

The server runs as its own process group, recorded and stopped by its PID.
Playwright itself runs in a child process of each test (see
``_drive_panels.py``), so its event loop never meets pytest's.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: How long JupyterLab may take to answer /api/status.
START_TIMEOUT_S = 60


@dataclass
class Lab:
    """A running JupyterLab."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the server (and its kernels) by its process group id."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_lab(root: Path, work: Path, env: dict[str, str]) -> Lab:
    """Start ``jupyter lab`` serving ``root``; its settings and runtime files go in ``work``.

    The "Jupyter news" toast is switched off in the user settings, or it
    covers the screenshots.
    """
    settings = work / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    token = secrets.token_hex(16)
    port = _free_port()
    log = work / "jupyterlab.log"
    env = {
        **env,
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "IPYTHONDIR": str(work / "ipython"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={work / 'settings'}",
        f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--LabApp.news_url=",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2):
                return lab
        except OSError:
            time.sleep(0.3)
    lab.stop()
    raise RuntimeError(
        f"jupyter lab did not answer in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture
def jupyter_lab(tmp_path: Path) -> Iterator[Callable[[Path, dict[str, str]], Lab]]:
    """Start JupyterLab serving a root folder with an environment; stopped after the test."""
    started: list[Lab] = []

    def start(root: Path, env: dict[str, str]) -> Lab:
        lab = start_lab(root, tmp_path / f"lab-{len(started)}", env)
        started.append(lab)
        return lab

    yield start
    for lab in started:
        lab.stop()
