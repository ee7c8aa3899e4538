"""The libraries nbtrack is measured against, the venv each runs in, and what each can do.

MLflow, trackio, Weights & Biases and Aim each get a venv of their own under
the cache folder, ``<cache>/<lib>-<version>`` (``mlflow-3.17``,
``trackio-0.43``, ``wandb-0.31``, ``aim-3.29``), created on first use with
``pip install <lib>==<pinned>.*`` from the registry. A library that cannot be
installed does not stop the run: :func:`ensure_peer` raises
:class:`PeerUnavailable` carrying pip's reason, the runner records it for every
workload of that library, and the table shows "—" with the reason.

Only MLflow speaks MLflow's API, so only it runs W2–W9. Every library runs W1
(``import <lib>``) and the peer workloads P1 (import → first durable point)
and P2 (per-call logging, points/s until durable, history read), written in
each library's own API (``bench._peer_api``). :func:`cannot_run` says why a
library sits a workload out.

Standard library only: the runner imports this in nbtrack's interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "PEER_SPECS",
    "PEER_WORKLOADS",
    "PeerUnavailable",
    "cannot_run",
    "ensure_peer",
    "venv_dir",
]

#: The release of each library the comparison is against (pip's ``==`` spec).
PEER_SPECS: dict[str, str] = {
    "mlflow": "3.17.*",
    "trackio": "0.43.*",
    "wandb": "0.31.*",
    "aim": "3.29.*",
}

#: The workloads every library can do, in its own API (W1 is ``import <lib>``).
PEER_WORKLOADS = ("W1", "P1", "P2")

# Why the libraries without MLflow's API sit out W2–W9. Each reason is the
# library's, not a shortcut of the benchmark: these calls have no equivalent.
_NO_MLFLOW_API = {
    "W2": "no MLflow client: log_batch and get_metric_history by run id (P2 is its logging)",
    "W3": "W3 drives MLflow's fluent start_run/log_params/set_tags",
    "W4": "no search_runs with MLflow's filter grammar",
    "W5": "no MLflow client; P2 reads its history through its own reader",
    "W6": "no sklearn autolog and no kernel hook",
    "W7": "no model scoring server",
    "W8": "no inline run-table panels",
    "W9": "no MLflow REST tracking server",
}


class PeerUnavailable(RuntimeError):
    """A library's venv could not be made (pip failed); ``reason`` says why."""

    def __init__(self, lib: str, reason: str) -> None:
        super().__init__(f"{lib} could not be installed: {reason}")
        self.lib, self.reason = lib, reason


def cannot_run(lib: str, workload: str) -> str | None:
    """Why ``lib`` cannot do ``workload``, or None when it can.

    nbtrack and MLflow do every workload; trackio, wandb and aim do
    :data:`PEER_WORKLOADS`.
    """
    if lib in ("nbtrack", "mlflow") or workload in PEER_WORKLOADS:
        return None
    return _NO_MLFLOW_API.get(workload, f"{workload} is not written for {lib}")


def venv_dir(lib: str, cache_dir: Path) -> Path:
    """``<cache_dir>/<lib>-<version>``, e.g. ``~/.cache/nbtrack/bench/wandb-0.31``."""
    return cache_dir / f"{lib}-{PEER_SPECS[lib].rstrip('.*')}"


def ensure_peer(
    lib: str, cache_dir: Path, progress: Callable[[str], None] = lambda message: None
) -> str:
    """The interpreter of a venv holding ``lib`` at its pinned release, created on first use.

    A venv that exists but holds another release (or none) is brought back to
    the pinned one by pip.

    Raises
    ------
    PeerUnavailable
        When the venv cannot be created or pip cannot install the release
        (the reason is the tail of pip's output).
    """
    spec = PEER_SPECS[lib]
    venv = venv_dir(lib, cache_dir)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists() and installed_version(str(python), lib).startswith(spec.rstrip("*")):
        return str(python)
    if not python.exists():
        progress(f"creating a venv for {lib} at {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True
        )
        if made.returncode != 0:
            raise PeerUnavailable(lib, _tail(made.stderr or made.stdout))
    progress(f"installing {lib}=={spec} into {venv} (a few minutes, once)")
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{lib}=={spec}"],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        raise PeerUnavailable(lib, _tail(pip.stderr or pip.stdout))
    return str(python)


def installed_version(python: str, lib: str) -> str:
    """The version of ``lib`` installed for ``python``, or ``""`` when none is."""
    proc = subprocess.run(
        [python, "-c", f"from importlib.metadata import version; print(version({lib!r}))"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _tail(text: str) -> str:
    # pip's last error lines say what failed; the registry warnings before them do not.
    lines = [line for line in text.strip().splitlines() if not line.startswith("WARNING:")]
    return " ".join(lines[-3:]) or "no output"
