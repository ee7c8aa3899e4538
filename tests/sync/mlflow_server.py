"""A real ``mlflow server`` (MLflow 3.17 in its own venv) for sync tests, and its client.

``start_mlflow_server`` runs it on a free 127.0.0.1 port over a fresh SQLite
file, serving artifacts; ``mlflow_read`` runs a script in MLflow's venv with
a clean environment and returns the JSON its last line prints.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from rest_server import free_port, wait_until

__all__ = ["MlflowServer", "mlflow_python", "mlflow_read"]


def mlflow_python() -> str:
    """The interpreter of MLflow's venv (created on first use)."""
    from bench.runner import default_cache_dir, ensure_mlflow

    return str(ensure_mlflow(default_cache_dir()))


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", **extra)
    return env


def mlflow_read(python: str, script: str, uri: str) -> Any:
    """Run ``script`` with MLflow's client on ``uri`` (env TRACKING_URI); return its JSON."""
    proc = subprocess.run(
        [python, "-c", script],
        env=_clean_env(TRACKING_URI=uri),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


class MlflowServer:
    """``mlflow server`` over ``folder/mlflow.db`` with artifacts in ``folder/artifacts``."""

    def __init__(self, python: str, folder: Path) -> None:
        self.python, self.folder = python, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until ``/health`` answers (the timeout only bounds a hang)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "server.log").open("ab")
        args = [self.python, "-m", "mlflow", "server", "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--workers", "1"]
        args += ["--backend-store-uri", f"sqlite:///{self.folder}/mlflow.db"]
        args += ["--artifacts-destination", str(self.folder / "artifacts")]
        self.proc = subprocess.Popen(
            args, cwd=self.folder, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

        def healthy() -> bool:
            assert self.proc is not None
            assert self.proc.poll() is None, (self.folder / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    return bool(answer.status == 200)
            except OSError:
                return False

        wait_until(healthy, 300, "mlflow server to answer /health")

    def stop(self) -> None:
        """Stop it (SIGINT, then SIGKILL if it lingers)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


#: MLflow's own client reads back what a sync sent: experiments, runs, histories, models.
READ_BACK = r"""
import json, os, tempfile
from mlflow import MlflowClient
c = MlflowClient(os.environ["TRACKING_URI"])
out = {"runs": {}, "models": {}}
for exp in c.search_experiments():
    for run in c.search_runs([exp.experiment_id], max_results=1000):
        rid = run.info.run_id
        files, stack = {}, [None]
        while stack:
            for f in c.list_artifacts(rid, stack.pop()):
                if f.is_dir:
                    stack.append(f.path)
                else:
                    with open(c.download_artifacts(rid, f.path, tempfile.mkdtemp())) as fh:
                        files[f.path] = fh.read()
        out["runs"][rid] = {
            "experiment": exp.name,
            "name": run.info.run_name,
            "status": run.info.status,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
            "params": run.data.params,
            "tags": run.data.tags,
            "metrics": {
                k: [(m.step, m.timestamp, m.value) for m in c.get_metric_history(rid, k)]
                for k in run.data.metrics
            },
            "artifacts": files,
        }
for m in c.search_registered_models():
    out["models"][m.name] = {
        "tags": m.tags,
        "description": m.description,
        "aliases": m.aliases,
        "versions": [
            {"version": v.version, "run_id": v.run_id, "source": v.source, "tags": v.tags}
            for v in c.search_model_versions(f"name = '{m.name}'")
        ],
    }
print(json.dumps(out))
"""
