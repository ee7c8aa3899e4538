"""``nbtrack sync`` to a real ``mlflow server`` (MLflow 3.17), read back with MLflow's client.

MLflow chooses run ids, so a synced run has a new id there, tagged
``nbtrack.sync.source_run_id`` with its local one; parent links and model
versions' runs are mapped to the new ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from mlflow_server import READ_BACK, MlflowServer, mlflow_python, mlflow_read

import nbtrack as nbt
from nbtrack.cli.main import cli

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[MlflowServer]:
    server = MlflowServer(mlflow_python(), tmp_path / "mlflow-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _sync(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["sync", "--no-progress", *args], catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def _by_source(dump: Any) -> dict[str, Any]:
    return {r["tags"]["nbtrack.sync.source_run_id"]: (rid, r) for rid, r in dump["runs"].items()}


def test_sync_to_mlflow_maps_ids_and_sends_only_news(
    mlflow_server: MlflowServer, tmp_dir: Path
) -> None:
    local = nbt.Client()
    exp = local.create_experiment("offline")
    parent = local.create_run(exp, run_name="sweep").info.run_id
    child = local.create_run(exp, run_name="trial", tags={"mlflow.parentRunId": parent})
    child_id = child.info.run_id
    for run_id, lr in ((parent, "0.1"), (child_id, "0.01")):
        local.log_param(run_id, "lr", lr)
        for step in range(4):
            local.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
        local.log_text(run_id, f"notes of {run_id}", "notes/readme.txt")
    local.set_terminated(child_id)
    local.create_registered_model("clf", tags={"owner": "me"})
    v1 = local.create_model_version("clf", f"runs:/{child_id}/notes", run_id=child_id)
    local.set_registered_model_alias("clf", "champion", v1.version)
    local.flush()

    first = _sync("--to", mlflow_server.url)
    assert "an MLflow server: it chooses run ids" in first.stdout
    assert "Sent 2 runs, 8 points" in first.stdout and "1 model versions" in first.stdout

    python = mlflow_server.python
    dump = mlflow_read(python, READ_BACK, mlflow_server.url)
    runs = _by_source(dump)
    assert set(runs) == {parent, child_id}
    for local_id in (parent, child_id):
        remote_id, got = runs[local_id]
        src = local.get_run(local_id)
        assert remote_id != local_id
        assert got["experiment"] == "offline" and got["name"] == src.info.run_name
        assert got["params"] == src.data.params
        assert got["status"] == src.info.status and got["end_time"] == src.info.end_time
        assert got["start_time"] == src.info.start_time
        assert got["metrics"]["loss"] == [
            [st, ts, v] for st, ts, v in local.store.get_metric_points(local_id, "loss")
        ]
        assert got["artifacts"] == {"notes/readme.txt": f"notes of {local_id}"}
        for key, value in src.data.tags.items():
            if key != "mlflow.parentRunId":
                assert got["tags"][key] == value
    assert runs[child_id][1]["tags"]["mlflow.parentRunId"] == runs[parent][0]
    model = dump["models"]["clf"]
    assert model["tags"] == {"owner": "me"} and model["aliases"] == {"champion": "1"}
    [version] = model["versions"]
    assert version["run_id"] == runs[child_id][0]
    assert version["source"] == f"runs:/{runs[child_id][0]}/notes"

    assert (
        "Sent 0 runs, 0 points, 0 bytes, 0 model versions"
        in _sync("--to", mlflow_server.url).stdout
    )

    for step in range(4, 7):
        local.log_metric(parent, "loss", 0.01, step=step)
    local.set_terminated(parent)
    third = _sync("--to", mlflow_server.url)
    assert "Sent 1 runs, 3 points, 0 bytes" in third.stdout
    dump = mlflow_read(python, READ_BACK, mlflow_server.url)
    runs = _by_source(dump)
    assert len(dump["runs"]) == 2
    assert len(runs[parent][1]["metrics"]["loss"]) == 7
    assert runs[parent][1]["status"] == "FINISHED"
