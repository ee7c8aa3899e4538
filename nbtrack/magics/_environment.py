"""The environment files a run made in the kernel carries: installed packages and git diff.

What they hold and where they go is described in :mod:`nbtrack.tracking.context`
(``environment/requirements.txt``, ``environment/git.diff``). The package list
is computed once per kernel, in the background as soon as the extension loads,
so that the first tracked cell does not wait for it.
"""

from __future__ import annotations

import threading
from typing import Any

from nbtrack.magics._cellparts import Problems

__all__ = ["log_environment", "prepare"]


def prepare() -> None:
    """Start computing the package list in a daemon thread (cached for the process)."""
    from nbtrack.tracking.context import requirements_text

    threading.Thread(target=requirements_text, name="nbtrack-requirements", daemon=True).start()


def log_environment(client: Any, run_id: str, problems: Problems) -> None:
    """Log ``environment/requirements.txt`` and, in a dirty work tree, ``environment/git.diff``."""
    from nbtrack.tracking import context

    with problems.guard("save the installed packages"):
        client.log_text(run_id, context.requirements_text(), context.REQUIREMENTS_ARTIFACT)
    with problems.guard("save the git diff"):
        diff = context.git_diff()
        if diff is not None:
            client.log_text(run_id, diff, context.GIT_DIFF_ARTIFACT)
