"""The notebook of this kernel, asked of the Jupyter servers running on the machine.

When nothing in the kernel names its notebook (older servers do not set
``JPY_SESSION_NAME``; other front ends set nothing), the server that started
the kernel still knows: its ``GET /api/sessions`` lists each session's
notebook path and kernel id. The kernel's id is in the name of its connection
file (``kernel-<id>.json``), and running servers describe themselves in
``jpserver-<pid>.json`` files in Jupyter's runtime folder.

Those files are read here rather than with
``jupyter_server.serverapp.list_running_servers``: importing that module
takes about 2 s (tornado and the whole server application), too much for a
kernel's first tracked cell; what it does is a dozen lines. Every request has
a short timeout and no failure is raised: a notebook path is a nicety.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from http.client import HTTPException
from typing import Any

__all__ = ["kernel_id", "notebook_from_sessions", "running_servers", "server_notebook_path"]

_KERNEL_FILE = re.compile(r"kernel-(?P<id>[0-9A-Za-z-]+)\.json$")
_SERVER_FILE = re.compile(r"^jpserver-(.+)\.json$")
#: How long an answer is reused: a kernel's notebook rarely changes, a missing one may appear.
_FOUND_TTL_S = 300.0
_MISSING_TTL_S = 30.0
_cache: tuple[float, float, str | None] | None = None


def kernel_id() -> str | None:
    """Return the id of the ipykernel this process runs, or None outside a kernel."""
    if "ipykernel" not in sys.modules:
        return None  # not a kernel: IPython's terminal or a plain interpreter
    try:
        from ipykernel import get_connection_file

        path = get_connection_file()
    except (RuntimeError, OSError, ImportError):
        return None
    found = _KERNEL_FILE.search(os.path.basename(path))
    return found.group("id") if found else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    except OSError:
        return False
    return True


def running_servers(runtime_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Return the info of the Jupyter servers running on this machine (as their files say).

    Parameters
    ----------
    runtime_dir:
        Jupyter's runtime folder (default: ``jupyter_core.paths.jupyter_runtime_dir()``).
    """
    if runtime_dir is None:
        try:
            from jupyter_core.paths import jupyter_runtime_dir
        except ImportError:
            return []
        runtime_dir = jupyter_runtime_dir()
    try:
        names = os.listdir(runtime_dir)
    except OSError:
        return []
    servers = []
    for name in sorted(names):
        if not _SERVER_FILE.match(name):
            continue
        try:
            with open(os.path.join(runtime_dir, name), encoding="utf-8") as file:
                info = json.load(file)
        except (OSError, ValueError):
            continue  # being written, or gone
        if isinstance(info, dict) and isinstance(info.get("pid"), int) and _pid_alive(info["pid"]):
            servers.append(info)
    return servers


def _sessions(server: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    url = str(server.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return []
    request = urllib.request.Request(url.rstrip("/") + "/api/sessions")
    token = server.get("token")
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            sessions = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, HTTPException):
        return []  # not reachable, refused, not JSON: look at the next server
    return [s for s in sessions if isinstance(s, dict)] if isinstance(sessions, list) else []


def notebook_from_sessions(
    kernel: str, servers: Iterable[dict[str, Any]], timeout: float = 1.0
) -> str | None:
    """Return the absolute path of the notebook whose session runs ``kernel``, or None.

    Parameters
    ----------
    kernel:
        The kernel id.
    servers:
        Server info dicts (``url``, ``token``, ``root_dir``), as :func:`running_servers` returns.
    timeout:
        Seconds to wait for each server.
    """
    for server in servers:
        for session in _sessions(server, timeout):
            owner = session.get("kernel") or {}
            path = session.get("path") or (session.get("notebook") or {}).get("path")
            if isinstance(owner, dict) and owner.get("id") == kernel and isinstance(path, str):
                root = server.get("root_dir") or server.get("notebook_dir") or ""
                return os.path.normpath(os.path.join(os.path.expanduser(str(root)), path))
    return None


def server_notebook_path() -> str | None:
    """Return this kernel's notebook as a running Jupyter server knows it (cached), or None."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _cache[1]:
        return _cache[2]
    found = None
    kernel = kernel_id()
    if kernel is not None:
        found = notebook_from_sessions(kernel, running_servers())
    _cache = (now, _FOUND_TTL_S if found else _MISSING_TTL_S, found)
    return found
