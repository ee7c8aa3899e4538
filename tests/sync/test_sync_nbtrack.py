"""``nbtrack sync`` to a real nbtrack server: everything arrives with its ids, once.

The server is the real tracking app under uvicorn on 127.0.0.1 over its own
store; the local store is a ``.nbtrack/`` folder; what arrived is read back
through ``nbtrack.Client`` on the server's URI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rest_server import serve_in_thread

import nbtrack as nbt
from nbtrack.cli.main import cli
from nbtrack.entities import CellExecution


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    with serve_in_thread(str(tmp_path / "team-store")) as url:
        yield url


def _sync(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["sync", "--no-progress", *args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def _fill_local(local: nbt.Client) -> dict[str, str]:
    exp = local.create_experiment("offline", tags={"team": "a"})
    local.log_cell_executions(
        [CellExecution("s1", None, i + 1, f"x = {i}", 1000 + i, 1.0, True) for i in range(3)]
    )
    lineage = {"nbtrack.lineage.session_id": "s1", "nbtrack.lineage.end": "3"}
    parent = local.create_run(exp, run_name="sweep", tags=lineage).info.run_id
    child = local.create_run(
        exp, run_name="trial", tags={"mlflow.parentRunId": parent, **lineage}
    ).info.run_id
    for run_id, lr in ((parent, "0.1"), (child, "0.01")):
        local.log_param(run_id, "lr", lr)
        for step in range(5):
            local.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
        local.log_text(run_id, f"notes of {run_id}", "notes/readme.txt")
        local.log_dict(run_id, {"lr": lr}, "config.json")
    local.set_terminated(child)
    local.create_registered_model("clf", tags={"owner": "me"}, description="a classifier")
    v1 = local.create_model_version("clf", f"runs:/{child}/notes", run_id=child, tags={"k": "v"})
    local.set_registered_model_alias("clf", "champion", v1.version)
    return {"exp": exp, "parent": parent, "child": child}


def test_sync_sends_everything_once_then_only_new_points(server_url: str, tmp_dir: Path) -> None:
    local = nbt.Client()  # the default store: ./.nbtrack/
    ids = _fill_local(local)

    dry = _sync("--to", server_url, "--dry-run")
    assert "an nbtrack server: runs keep their ids" in dry.stdout
    assert "Would send 2 runs, 10 points" in dry.stdout and "nothing was sent" in dry.stdout
    team = nbt.Client(server_url)
    assert team.get_experiment_by_name("offline") is None

    first = _sync("--to", server_url)
    assert "Sent 2 runs, 10 points" in first.stdout and "1 model versions" in first.stdout

    exp = team.get_experiment_by_name("offline")
    assert exp is not None and exp.tags.get("team") == "a"
    for key in ("parent", "child"):
        run = team.get_run(ids[key])  # the same id on the server
        src = local.get_run(ids[key])
        assert run.data.params == src.data.params
        assert {k: v for k, v in run.data.tags.items()} == src.data.tags
        assert run.info.status == src.info.status and run.info.end_time == src.info.end_time
        assert run.info.experiment_id == exp.experiment_id
        assert [
            (m.step, m.value, m.timestamp) for m in team.get_metric_history(ids[key], "loss")
        ] == [(m.step, m.value, m.timestamp) for m in local.get_metric_history(ids[key], "loss")]
        got = team.download_artifacts(ids[key], "notes/readme.txt", str(tmp_dir / key))
        assert Path(got).read_text() == f"notes of {ids[key]}"
        config = team.download_artifacts(ids[key], "config.json", str(tmp_dir / key))
        assert json.loads(Path(config).read_text()) == {"lr": "0.1" if key == "parent" else "0.01"}
    assert team.get_run(ids["child"]).data.tags["mlflow.parentRunId"] == ids["parent"]
    model = team.get_registered_model("clf")
    assert model.tags == {"owner": "me"} and model.description == "a classifier"
    version = team.get_model_version_by_alias("clf", "champion")
    assert version.run_id == ids["child"] and version.source == f"runs:/{ids['child']}/notes"
    assert version.tags["k"] == "v"
    assert [c.source for c in team.get_cell_executions("s1")] == ["x = 0", "x = 1", "x = 2"]

    again = _sync("--to", server_url)
    assert "Sent 0 runs, 0 points, 0 bytes, 0 model versions" in again.stdout
    assert "2 unchanged" in again.stdout

    # The parent is still running: points appended to it go, and only those.
    for step in range(5, 8):
        local.log_metric(ids["parent"], "loss", 0.1, step=step)
    local.flush()  # the metric buffer's points are durable (the sync reads the store)
    local.log_cell_executions([CellExecution("s1", None, 4, "x = 3", 2000, 1.0, True)])
    third = _sync("--to", server_url)
    assert "Sent 1 runs, 3 points, 0 bytes" in third.stdout
    assert len(team.get_metric_history(ids["parent"], "loss")) == 8
    assert len(team.get_cell_executions("s1")) == 4
    local.set_terminated(ids["parent"], "KILLED")
    _sync("--to", server_url)
    assert team.get_run(ids["parent"]).info.status == "KILLED"
    assert "Sent 0 runs, 0 points" in _sync("--to", server_url).stdout
    assert len(team.get_metric_history(ids["parent"], "loss")) == 8
    assert len(team.get_model_version_by_alias("clf", "champion").tags) == 2
    assert len(team.search_model_versions("name = 'clf'")) == 1


def test_a_run_id_the_server_holds_with_other_content_is_reported_and_skipped(
    server_url: str, tmp_dir: Path
) -> None:
    local = nbt.Client()
    exp = local.create_experiment("offline")
    run_id = local.create_run(exp).info.run_id
    local.log_param(run_id, "lr", "0.1")
    team = nbt.Client(server_url)
    other = team.create_experiment("offline")
    team.store.create_run(other, "someone", 1, [], "theirs", run_id)
    team.log_param(run_id, "lr", "0.5")

    out = _sync("--to", server_url)
    assert f"conflict, skipped: run {run_id} has param 'lr' = '0.5' on the target" in out.stderr
    assert "1 conflicting runs skipped" in out.stdout
    assert team.get_run(run_id).data.params == {"lr": "0.5"}  # never overwritten


def test_an_unknown_experiment_name_is_an_error(server_url: str, tmp_dir: Path) -> None:
    nbt.Client().create_experiment("offline")
    out = _sync("--to", server_url, "--experiment", "nope", code=1)
    assert "No experiment named 'nope'" in out.stderr


def test_experiment_option_pushes_only_that_experiment_and_its_models(
    server_url: str, tmp_dir: Path
) -> None:
    local = nbt.Client()
    runs = {}
    for name in ("mine", "other"):
        exp = local.create_experiment(name)
        runs[name] = local.create_run(exp).info.run_id
        local.log_metric(runs[name], "acc", 0.5)
        local.set_terminated(runs[name])
        local.create_registered_model(f"model-{name}")
        local.create_model_version(f"model-{name}", f"runs:/{runs[name]}/m", run_id=runs[name])
    out = _sync("--to", server_url, "--experiment", "mine")
    assert "Sent 1 runs, 1 points" in out.stdout and "1 model versions" in out.stdout
    team = nbt.Client(server_url)
    assert team.get_experiment_by_name("other") is None
    assert team.get_run_or_none(runs["other"]) is None
    assert team.get_run(runs["mine"]).data.metrics == {"acc": 0.5}
    assert [m.name for m in team.search_registered_models()] == ["model-mine"]
