"""A sync SIGKILLed partway resumes: nothing lost, nothing stored twice.

The sync runs as a real ``python -m nbtrack sync`` process; the test kills it
once the server holds a few runs but not all their points, runs the sync
again, and checks every run and point is on the server exactly once (and
that a third sync finds nothing to send). Against an nbtrack server and
against MLflow's, where a run created just before the kill must be found
again rather than created twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow_server import MlflowServer, mlflow_python, mlflow_read
from rest_server import serve_in_thread, wait_until

import nbtrack as nbt
from nbtrack.cli.main import cli
from nbtrack.entities import Metric

pytestmark = pytest.mark.slow

RUNS, POINTS = 12, 6000


def _fill(local: nbt.Client) -> list[str]:
    exp = local.create_experiment("big")
    ids = []
    for i in range(RUNS):
        run_id = local.create_run(exp, run_name=f"r{i}").info.run_id
        local.log_param(run_id, "i", str(i))
        for start in range(0, POINTS, 1000):
            local.log_batch(
                run_id,
                metrics=[Metric("loss", s * 0.5, 1_000 + s, s) for s in range(start, start + 1000)],
            )
        local.log_text(run_id, "x" * 1000, f"files/{i}.txt")
        local.set_terminated(run_id)
        ids.append(run_id)
    return ids


def _kill_partway(url: str, store: Path, on_target: Callable[[], int]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "--tracking-uri", str(store), "sync", "--to", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: on_target() >= 3 or proc.poll() is not None, 600, "runs on the target")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL, "the sync ended before it could be killed"


def _resume(url: str, store: Path) -> None:
    args = ["--tracking-uri", str(store), "sync", "--no-progress", "--to", url]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert "Sent 0 runs, 0 points, 0 bytes" in again.stdout, again.stdout


def test_killed_sync_to_an_nbtrack_server_resumes(tmp_path: Path) -> None:
    store = tmp_path / "local"
    local = nbt.Client(str(store))
    ids = _fill(local)
    with serve_in_thread(str(tmp_path / "team")) as url:
        team = nbt.Client(url)

        def points_there() -> int:
            return sum(len(team.store.get_metric_points(r, "loss")) for r in _there(team, ids))

        _kill_partway(url, store, lambda: len(_there(team, ids)))
        assert points_there() < RUNS * POINTS  # killed partway indeed
        _resume(url, store)
        assert team.count_runs() == RUNS
        for run_id in ids:
            points = team.store.get_metric_points(run_id, "loss")
            assert points == local.store.get_metric_points(run_id, "loss")
            assert team.get_run(run_id).info.status == "FINISHED"
            assert team.get_run(run_id).data.params == {"i": local.get_run(run_id).data.params["i"]}


def _there(team: nbt.Client, ids: list[str]) -> list[str]:
    return [r for r in ids if team.get_run_or_none(r) is not None]


COUNT = r"""
import json, os
from mlflow import MlflowClient
c = MlflowClient(os.environ["TRACKING_URI"])
exp = c.get_experiment_by_name("big")
runs = c.search_runs([exp.experiment_id], max_results=1000) if exp else []
print(json.dumps({
    r.data.tags["nbtrack.sync.source_run_id"]: [
        r.info.status, r.data.params, len(c.get_metric_history(r.info.run_id, "loss")),
        [f.path for f in c.list_artifacts(r.info.run_id, "files")],
    ]
    for r in runs
} | {"_count": len(runs)}))
"""


def test_killed_sync_to_an_mlflow_server_resumes_without_a_second_run(tmp_path: Path) -> None:
    store = tmp_path / "local"
    local = nbt.Client(str(store))
    ids = _fill(local)
    server = MlflowServer(mlflow_python(), tmp_path / "mlflow")
    server.start()
    try:
        import httpx

        def runs_there() -> int:
            got = httpx.get(
                f"{server.url}/api/2.0/mlflow/experiments/get-by-name",
                params={"experiment_name": "big"},
                timeout=120,
            )
            if got.status_code != 200:
                return 0
            body = {"experiment_ids": [got.json()["experiment"]["experiment_id"]]}
            found = httpx.post(f"{server.url}/api/2.0/mlflow/runs/search", json=body, timeout=120)
            return len(found.json().get("runs", []))

        _kill_partway(server.url, store, runs_there)
        _resume(server.url, store)
        got = mlflow_read(server.python, COUNT, server.url)
        assert got.pop("_count") == RUNS  # no run created twice
        for i, run_id in enumerate(ids):
            status, params, points, files = got[run_id]
            assert (status, params, points) == ("FINISHED", {"i": str(i)}, POINTS)
            assert files == [f"files/{i}.txt"]
    finally:
        server.stop()
