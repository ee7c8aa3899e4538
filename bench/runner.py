"""Which workloads run at which sizes, in which interpreter, and where results go.

nbtrack runs in this interpreter with the repository on ``PYTHONPATH``;
MLflow, trackio, W&B and Aim each run in a venv of their own under the cache
folder, created on first use (``bench.peers``). Workloads run one at a time
(two of them at once on a small machine would measure each other). A workload
a library cannot do is not run: its record says why (``"skipped"``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._proc import REPO_ROOT, run_worker
from bench.peers import PEER_SPECS, cannot_run, ensure_peer

__all__ = [
    "MLFLOW_SPEC",
    "OPT_IN_WORKLOADS",
    "Plan",
    "default_cache_dir",
    "ensure_mlflow",
    "ensure_postgres_driver",
    "environment",
    "run_lib",
    "skipped_records",
    "write_results",
]

#: The MLflow release the comparison is against.
MLFLOW_SPEC = PEER_SPECS["mlflow"]
#: Every workload, in the order they run.
ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
#: Workloads run only when named (``--workloads W7``), after the others. P1 and
#: P2, the peer workloads, also run when a peer other than MLflow is named.
OPT_IN_WORKLOADS = ("P1", "P2", "W7", "W8", "W9")


@dataclass(frozen=True, slots=True)
class Plan:
    """The workloads to run and their sizes.

    Sizes are the issue's (10,000 points; 1,000 and 10,000 runs), divided by
    ten with ``quick``. W3 creates 10,000 runs through the fluent API only with
    ``full``; W4's 10,000-run store is otherwise built by each library's
    fastest path.
    """

    workloads: tuple[str, ...] = ALL_WORKLOADS
    quick: bool = False
    full: bool = False
    repeat: int = 5
    timeout: float = 1800.0

    @property
    def points(self) -> int:
        """Metric points in W2 and W5."""
        return 1_000 if self.quick else 10_000

    @property
    def run_sizes(self) -> tuple[int, int]:
        """The small and large numbers of runs for W3 and W4."""
        return (100, 1_000) if self.quick else (1_000, 10_000)

    def jobs(self) -> list[tuple[str, int]]:
        """``(workload, size)`` pairs in the order they run."""
        small, large = self.run_sizes
        sizes = {
            "W1": [0],
            "W2": [self.points],
            "W3": [small, large] if self.full else [small],
            "W4": [small, large],
            "W5": [self.points],
            "W6": [20 if self.quick else 200],
            "P1": [0],  # --repeat fresh processes
            "P2": [self.points],
            "W7": [2 if self.quick else 5],  # seconds of load per body size
            "W8": [10_000 if self.quick else 100_000],  # runs in the panel's experiment
            "W9": [1_000 if self.quick else 10_000],  # runs searched through the server
        }
        known = (*ALL_WORKLOADS, *OPT_IN_WORKLOADS)
        return [(w, size) for w in known if w in self.workloads for size in sizes[w]]


def run_lib(
    lib: str,
    python: str,
    plan: Plan,
    workdir: Path,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, list[dict[str, Any]]]:
    """Run the plan for ``lib`` with ``python``; return ``{workload: [records]}``.

    Each job gets a fresh store under ``workdir``, except W4, which searches
    the store W3 left at the same size when there is one. A workload ``lib``
    cannot do gets a record saying why instead (see :func:`skipped_records`).
    """
    results: dict[str, list[dict[str, Any]]] = {}
    w3_stores: dict[int, Path] = {}
    for workload, size in plan.jobs():
        reason = cannot_run(lib, workload)
        if reason is not None:
            results.setdefault(workload, []).append(_skipped(lib, workload, size, reason))
            continue
        store = workdir / lib / f"{workload}-{size}"
        if workload == "W4" and size in w3_stores:
            store = w3_stores[size]
        progress(f"{lib:8} {workload} {size or '':>6} …")
        load = _load_average()
        start = time.perf_counter()
        record = run_worker(
            lib,
            workload,
            store=store,
            size=size,
            repeat=plan.repeat,
            python=python,
            timeout=plan.timeout,
        )
        record["wall_s"] = round(time.perf_counter() - start, 2)
        # Libraries run one after another, so each job's load is its own context.
        record.setdefault("load_average_start", load)
        record.setdefault("load_average_end", _load_average())
        status = "ok" if record.get("ok") else f"FAILED: {record.get('error')}"
        progress(f"{lib:8} {workload} {size or '':>6} {record['wall_s']:7.1f} s  {status}")
        if workload == "W3" and record.get("ok"):
            w3_stores[size] = store
        results.setdefault(workload, []).append(record)
    return results


def skipped_records(lib: str, plan: Plan, reason: str) -> dict[str, list[dict[str, Any]]]:
    """The records of a library that runs nothing (it could not be installed): each says why."""
    results: dict[str, list[dict[str, Any]]] = {}
    for workload, size in plan.jobs():
        results.setdefault(workload, []).append(_skipped(lib, workload, size, reason))
    return results


def _skipped(lib: str, workload: str, size: int, reason: str) -> dict[str, Any]:
    # "ok": a workload a library cannot do is not a failure of the run.
    return {"workload": workload, "lib": lib, "size": size, "ok": True, "skipped": reason}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nbtrack/bench``, or ``~/.cache/nbtrack/bench``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "nbtrack" / "bench"


def ensure_mlflow(cache_dir: Path, progress: Callable[[str], None] = lambda message: None) -> str:
    """The interpreter of a venv with ``mlflow==3.17.*``, created on first use.

    The venv is ``<cache_dir>/mlflow-3.17``; a venv that exists but holds
    another MLflow (or none) is brought back to the pinned release by pip
    (``bench.peers.ensure_peer``, which raises ``PeerUnavailable`` if pip fails).
    """
    return ensure_peer("mlflow", cache_dir, progress)


def ensure_postgres_driver(
    python: str, progress: Callable[[str], None] = lambda message: None
) -> None:
    """Install psycopg2 (MLflow's PostgreSQL driver, for W9's ``mlflow server``) when missing."""
    if subprocess.run([python, "-c", "import psycopg2"], capture_output=True).returncode == 0:
        return
    progress(f"installing psycopg2-binary for {python}")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "psycopg2-binary"], check=True)


def environment() -> dict[str, Any]:
    """Where and when: Python, platform, CPUs, timestamp, git commit of the repository."""
    return {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine skews every figure; the load says how much.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain")),
    }


def _load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
