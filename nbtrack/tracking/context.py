"""System context of a run: who, where, which code (git), which Python and packages.

Tags recorded on every run (``system_tags``): ``nbtrack.user``,
``nbtrack.source.name``/``.type``, ``nbtrack.python``, ``nbtrack.host`` and
``nbtrack.git.commit``/``.branch``/``.dirty``, and beside them MLflow's own
keys for the same facts (``mlflow.user``, ``mlflow.source.name``/``.type``,
``mlflow.source.git.commit``/``.branch``; see :func:`mlflow_tags`), so
searches and tools written for MLflow find them. Computed once per process (git
state is re-read after a few seconds) so that creating a run costs no
subprocess calls on the hot path.

Artifacts, for runs made in a kernel with nbtrack loaded (the kernel hook logs
them; see :data:`REQUIREMENTS_ARTIFACT` and :data:`GIT_DIFF_ARTIFACT`):

- ``environment/requirements.txt`` — every installed distribution as
  ``name==version`` (``importlib.metadata``), computed once per process;
- ``environment/git.diff`` — ``git diff HEAD`` of the tracked files, only when
  the work tree is dirty, cut at :data:`MAX_DIFF_BYTES` with a note saying so.
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

__all__ = [
    "GIT_DIFF_ARTIFACT",
    "MAX_DIFF_BYTES",
    "REQUIREMENTS_ARTIFACT",
    "TAG_PREFIX",
    "current_user",
    "git_diff",
    "git_info",
    "mlflow_tags",
    "requirements_text",
    "system_tags",
]

TAG_PREFIX = "nbtrack."
#: Artifact paths of the environment files (see the module docstring).
REQUIREMENTS_ARTIFACT = "environment/requirements.txt"
GIT_DIFF_ARTIFACT = "environment/git.diff"
#: A diff longer than this is cut: a run records code changes, not generated data.
MAX_DIFF_BYTES = 1024 * 1024
_GIT_TTL_S = 10.0
_git_cache: dict[str, tuple[float, dict[str, str]]] = {}
_diff_cache: dict[str, tuple[float, str | None]] = {}
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


def git_diff(path: str | os.PathLike[str] | None = None) -> str | None:
    """Return ``git diff HEAD`` of the tracked files around ``path`` (cwd), or None.

    None when there is no work tree, it is clean, or git fails. A diff over
    :data:`MAX_DIFF_BYTES` is cut there, ending with a line saying how long it
    was. Cached for a few seconds, like :func:`git_info`.
    """
    where = str(path or os.getcwd())
    cached = _diff_cache.get(where)
    if cached and time.monotonic() - cached[0] < _GIT_TTL_S:
        return cached[1]
    info = git_info(where)
    diff: str | None = None
    if info.get("dirty") == "true":
        start = Path(where).resolve()
        top = _git_dir(start.parent if start.is_file() else start)
        # Before the first commit there is no HEAD: the staged changes are the diff.
        base = ["HEAD"] if "commit" in info else ["--cached"]
        try:
            raw = subprocess.run(
                ["git", "-C", str(top), "diff", "--no-color", "--no-ext-diff", *base],
                capture_output=True,
                timeout=10,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            raw = b""
        if raw:
            diff = _bounded(raw)
    _diff_cache[where] = (time.monotonic(), diff)
    return diff


def _bounded(raw: bytes) -> str:
    if len(raw) <= MAX_DIFF_BYTES:
        return raw.decode("utf-8", errors="replace")
    kept = raw[:MAX_DIFF_BYTES].decode("utf-8", errors="ignore")
    kept = kept[: kept.rfind("\n") + 1] if "\n" in kept else kept
    return kept + (
        f"# nbtrack: diff truncated: {len(raw):,} bytes, the first "
        f"{MAX_DIFF_BYTES // 1024:,} KB kept\n"
    )


@functools.cache
def requirements_text() -> str:
    """Return the installed distributions as ``requirements.txt`` lines, sorted by name.

    Computed once per process: packages installed while a kernel runs are
    only seen after a restart, which is also when they can be imported for sure.
    """
    from importlib.metadata import distributions

    pins: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name and name.lower() not in pins:
            pins[name.lower()] = f"{name}=={dist.version}"
    return "".join(pins[key] + "\n" for key in sorted(pins))


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
    tags.update(mlflow_tags(tags))
    return tags


#: nbtrack's system tag → MLflow's key for the same fact.
MLFLOW_KEYS = {
    "nbtrack.user": "mlflow.user",
    "nbtrack.source.name": "mlflow.source.name",
    "nbtrack.source.type": "mlflow.source.type",
    "nbtrack.git.commit": "mlflow.source.git.commit",
    "nbtrack.git.branch": "mlflow.source.git.branch",
}


def mlflow_tags(tags: dict[str, str]) -> dict[str, str]:
    """Return MLflow's system tags mirroring the ``nbtrack.*`` ones in ``tags``.

    Called again when a front end has replaced a value (the kernel hook sets
    the notebook as ``nbtrack.source.name``), so both keys say the same.
    """
    return {mlflow: tags[ours] for ours, mlflow in MLFLOW_KEYS.items() if ours in tags}
