"""Launching a workload in a fresh interpreter and reading back its JSON line.

Used by the runner (one process per workload) and by workloads that check
their own results from a second process (W2 reads its metric history back
through a new client). Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "run_worker", "worker_env"]

#: The folder that holds the ``bench`` package (and, in a checkout, ``nbtrack``).
REPO_ROOT = Path(__file__).resolve().parent.parent

# Settings that would change what is measured: nbtrack's own (a user's store or
# flush interval), MLflow's async logging, which is off by default in MLflow 3
# and stays off so that "durable" means "the call returned", and the peers'
# (a user's W&B mode or API key, trackio's folder or Space, Aim's repository).
_DROPPED_PREFIXES = ("NBTRACK_", "MLFLOW_", "WANDB_", "TRACKIO_", "AIM_")


def worker_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ``bench`` importable, telemetry off, no store settings."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith(_DROPPED_PREFIXES)
    }
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    env["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    # MLflow 3 sends usage telemetry from a background thread; a benchmark
    # should neither phone home nor pay for it.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    return env


def run_worker(
    lib: str,
    workload: str,
    *,
    store: Path,
    size: int = 0,
    repeat: int = 5,
    params: dict[str, Any] | None = None,
    python: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run ``workload`` for ``lib`` in a new interpreter and return its record.

    The worker's working directory is ``store`` (so nothing strays into the
    caller's). A worker that crashes, times out or prints no JSON yields a
    record with ``"ok": False``, ``"error"`` and the tail of its stderr;
    nothing is raised.

    Parameters
    ----------
    lib, workload
        What to run (see ``bench.workloads.WORKLOADS``).
    store
        The folder of the store the workload uses (created if missing).
    size, repeat, params
        Passed to the workload (``params`` as JSON).
    python
        The interpreter; defaults to this one.
    env
        The environment; defaults to :func:`worker_env`.
    timeout
        Seconds before the worker is killed.
    """
    store.mkdir(parents=True, exist_ok=True)
    cmd = [python or sys.executable, "-m", "bench._worker", "--lib", lib, "--workload", workload]
    cmd += ["--store", str(store), "--size", str(size), "--repeat", str(repeat)]
    cmd += ["--params", json.dumps(params or {})]
    base = {"workload": workload, "lib": lib, "size": size}
    try:
        proc = subprocess.run(
            cmd,
            cwd=store,
            env=env if env is not None else worker_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        return base | {"ok": False, "error": f"timed out after {exc.timeout:.0f} s"}
    record = _last_json_line(proc.stdout)
    if record is None or proc.returncode != 0:
        record = base | (record or {})
        record["ok"] = False
        record.setdefault("error", f"worker exited with status {proc.returncode}")
        record["stderr_tail"] = proc.stderr[-3000:]
    return record


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None
