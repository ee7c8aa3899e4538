"""System tags recorded on every run: who, where, which code (git), which Python.

Computed once per process (git state is re-read after a few seconds) so that
creating a run costs no subprocess calls on the hot path.
"""

from __future__ import annotations

import functools
import getpass
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from nbtrack import env

__all__ = ["TAG_PREFIX", "current_user", "git_info", "system_tags"]

TAG_PREFIX = "nbtrack."
_GIT_TTL_S = 10.0
_git_cache: dict[str, tuple[float, dict[str, str]]] = {}
_static: dict[str, str] | None = None


def current_user() -> str:
    """Return ``NBTRACK_USER`` or the login name."""
    name = os.environ.get(env.NBTRACK_USER)
    if name:
        return name
    return _login_name()


@functools.cache
def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def source_name() -> str:
    """Return the running script (absolute), or ``<interactive>``."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return str(Path(path).resolve()) if path else "<interactive>"


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def git_info(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Return commit, branch and dirty flag of the git work tree holding ``path`` (cwd)."""
    where = str(path or os.getcwd())
    cached = _git_cache.get(where)
    if cached and time.monotonic() - cached[0] < _GIT_TTL_S:
        return cached[1]
    start = Path(where).resolve()
    if start.is_file():
        start = start.parent
    top = _git_dir(start)
    if top is None:
        _git_cache[where] = (time.monotonic(), {})
        return {}
    info: dict[str, str] = {}
    try:
        out = subprocess.run(
            ["git", "-C", str(top), "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dirty = False
    for line in out.splitlines():
        if line.startswith("# branch.oid ") and "(initial)" not in line:
            info["commit"] = line.split()[-1]
        elif line.startswith("# branch.head ") and "(detached)" not in line:
            info["branch"] = line.split(maxsplit=2)[-1]
        elif not line.startswith("#"):
            dirty = True
    info["dirty"] = "true" if dirty else "false"
    _git_cache[where] = (time.monotonic(), info)
    return info


def system_tags() -> dict[str, str]:
    """Return the ``nbtrack.*`` tags describing this process."""
    global _static
    if _static is None:
        _static = {
            "nbtrack.user": current_user(),
            "nbtrack.source.name": source_name(),
            "nbtrack.source.type": "LOCAL",
            "nbtrack.python": platform.python_version(),
            "nbtrack.host": socket.gethostname(),
        }
    tags = dict(_static)
    tags.update({f"nbtrack.git.{k}": v for k, v in git_info().items()})
    return tags
