"""Which notebook this kernel runs: the path a run is tagged with and snapshots.

Kernels are not told their notebook in a standard way: Jupyter Server sets
``JPY_SESSION_NAME`` (ipykernel mirrors it as ``__session__``), VS Code sets
``__vsc_ipynb_file__``, and nbclient/papermill set nothing, so their users pass
it with ``%nbtrack notebook PATH`` or ``NBTRACK_NOTEBOOK``. Failing all of
these, the Jupyter server that started the kernel is asked
(``_server_sessions``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbtrack import env

__all__ = ["notebook_path", "set_notebook_path"]

_explicit: str | None = None


def set_notebook_path(path: str | os.PathLike[str] | None) -> None:
    """Use ``path`` as this kernel's notebook from now on (None forgets it)."""
    global _explicit
    _explicit = str(Path(path).expanduser().resolve()) if path else None


def _resolve(raw: str) -> str:
    path = Path(raw).expanduser()
    if path.is_absolute():
        return str(path)
    if path.exists():
        return str(path.resolve())
    # Jupyter Server gives the path relative to its root; the kernel starts in
    # the notebook's folder, so the name alone is found there.
    local = Path(path.name)
    return str(local.resolve()) if local.exists() else raw


def notebook_path(namespace: Mapping[str, Any]) -> str | None:
    """Return the notebook's path, or None when nothing says which notebook runs.

    Looks at ``%nbtrack notebook``, ``NBTRACK_NOTEBOOK``, ``__vsc_ipynb_file__``
    and ``__session__`` in the user namespace, then ``JPY_SESSION_NAME``, then
    the sessions of the running Jupyter servers (matched by kernel id).
    """
    if _explicit:
        return _explicit
    candidates = (
        os.environ.get(env.NBTRACK_NOTEBOOK),
        namespace.get("__vsc_ipynb_file__"),
        namespace.get("__session__"),
        os.environ.get(env.JPY_SESSION_NAME),
    )
    for raw in candidates:
        if isinstance(raw, str) and raw:
            return _resolve(raw)
    from nbtrack.magics._server_sessions import server_notebook_path

    return server_notebook_path()
