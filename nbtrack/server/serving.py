"""Registered model versions served from JupyterLab, each in a child process of the server.

The "Serve model" command asks the server extension to serve
``models:/<name>/<version>``; a scoring server inside the Jupyter server
process would share its event loop and memory with every notebook's
traffic, so each model gets its own process (:mod:`nbtrack.server._serve_child`),
which binds a free port on 127.0.0.1 and says where on its first stdout line.

A child stops when its stdin closes: :meth:`ModelServers.stop` closes it,
and so does the operating system when the Jupyter server ends in any way
(even killed), so no scoring server outlives the Jupyter server that started
it. :meth:`ModelServers.stop_all` runs at the server's exit to wait for them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import env
from nbtrack.errors import InvalidInput, NotFoundError

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["ModelServers", "ServedModel"]

#: How long a child may take to load its model and listen.
START_TIMEOUT_S = 120.0
#: How long a child may take to stop once its stdin is closed.
STOP_TIMEOUT_S = 10.0


@dataclass
class ServedModel:
    """One model version being served: where, by which process, since when."""

    server_id: str
    name: str
    version: int
    model_uri: str
    url: str
    pid: int
    start_time: int
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the API returns (``invocations_url`` is where to POST)."""
        return {
            "server_id": self.server_id,
            "name": self.name,
            "version": self.version,
            "model_uri": self.model_uri,
            "url": self.url,
            "invocations_url": f"{self.url}/invocations",
            "pid": self.pid,
            "start_time": self.start_time,
        }


class ModelServers:
    """The scoring servers one Jupyter server started, over the store at ``tracking_uri``."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._served: dict[str, ServedModel] = {}
        # Requests run in a thread pool. `_lock` guards the table and is held briefly;
        # `_starting` makes two "Serve" clicks start one child, without making a
        # listing wait for a model to load.
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._logs: Path | None = None

    def list(self) -> list[ServedModel]:
        """The servers still running, oldest first (ones that died are forgotten)."""
        with self._lock:
            for server_id, served in list(self._served.items()):
                if served.process.poll() is not None:
                    del self._served[server_id]
            return list(self._served.values())

    def start(self, client: Client, name: Any, version: Any) -> ServedModel:
        """Serve ``models:/name/version``; the running server if that version is served already.

        Raises
        ------
        InvalidInput
            ``name`` or ``version`` is malformed, no such version is
            registered, or its model cannot be loaded (the child's last error line).
        """
        if not isinstance(name, str) or not name:
            raise InvalidInput("Field 'name' must be a registered model's name")
        if isinstance(version, bool) or not str(version).isdigit():
            raise InvalidInput(f"Field 'version' must be a version number, got {version!r}")
        number = int(version)
        model_uri = f"models:/{name}/{number}"
        try:
            client.get_model_version(name, number)
        except NotFoundError as exc:
            # The request names the model in its body: a bad body, not a missing route.
            raise InvalidInput(f"Cannot serve {model_uri}: {exc.message}") from None
        with self._starting:
            for served in self.list():
                if served.model_uri == model_uri:
                    return served
            served = self._spawn(name, number, model_uri)
            with self._lock:
                self._served[served.server_id] = served
            return served

    def stop(self, server_id: str) -> ServedModel:
        """Stop one server and wait for it to end.

        Raises
        ------
        NotFoundError
            No running server has this id.
        """
        with self._lock:
            served = self._served.pop(server_id, None)
        if served is None:
            raise NotFoundError(f"No model is being served with id {server_id!r}")
        _end(served.process)
        served.log.unlink(missing_ok=True)
        return served

    def stop_all(self) -> None:
        """Stop every server and remove their logs (at the Jupyter server's exit)."""
        with self._lock:
            served, self._served = list(self._served.values()), {}
            logs, self._logs = self._logs, None
        for one in served:
            _end(one.process)
        if logs is not None:
            shutil.rmtree(logs, ignore_errors=True)

    def _spawn(self, name: str, version: int, model_uri: str) -> ServedModel:
        server_id = uuid.uuid4().hex[:12]
        with self._lock:
            if self._logs is None:
                # Each child's stderr goes to a file: a pipe nobody reads would fill and block.
                self._logs = Path(tempfile.mkdtemp(prefix="nbtrack-serving-"))
            log = self._logs / f"{server_id}.log"
        child_env = {**os.environ, env.NBTRACK_TRACKING_URI: self.tracking_uri}
        with log.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "nbtrack.server._serve_child", model_uri],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env,
            )
        assert process.stdout is not None
        # A child that hangs while loading is killed, which ends the readline below.
        timer = threading.Timer(START_TIMEOUT_S, process.kill)
        timer.start()
        try:
            line = process.stdout.readline()
        finally:
            timer.cancel()
        try:
            url = str(json.loads(line)["url"])
        except (ValueError, KeyError, TypeError):
            _end(process)
            last = _last_line(log) or f"the server exited with code {process.returncode}"
            raise InvalidInput(f"Cannot serve {model_uri}: {last}") from None
        return ServedModel(
            server_id,
            name,
            version,
            model_uri,
            url,
            process.pid,
            int(time.time() * 1000),
            process,
            log,
        )


def _end(process: subprocess.Popen[bytes]) -> None:
    """Close the child's stdin (it stops itself), then terminate or kill it if it lingers."""
    if process.stdin is not None and not process.stdin.closed:
        # A child that already died leaves a broken pipe to flush.
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
