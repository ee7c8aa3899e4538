"""``nbtrack quickstart``, in-process and as the installed console script on a fresh folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nbtrack.cli.main import cli
from nbtrack.cli.quickstart import train
from nbtrack.uris import default_store_folder

NAMES = ["lr0.01-ep20", "lr0.03-ep20", "lr0.1-ep20", "lr0.3-ep20", "lr1-ep20"]


def _fresh_project(path: Path) -> Path:
    """Return an empty project folder whose default store will be ``<it>/.nbtrack``."""
    path.mkdir()
    if default_store_folder(path) != path / ".nbtrack":
        # A .nbtrack/ in an ancestor of the temp folder would take the runs: make ours nearest.
        (path / ".nbtrack").mkdir()
    return path


def test_training_is_deterministic_and_varied() -> None:
    losses, rmse, w, b = train(0.3, 20)
    assert len(losses) == 20 and losses[0] > losses[-1]
    assert (round(rmse, 6), round(w, 2), round(b, 2)) == (0.220539, 3.05, 0.51)
    assert train(0.3, 20) == (losses, rmse, w, b)
    rmses = {lr: train(lr, 20)[1] for lr in (0.01, 0.03, 0.1, 0.3, 1.0)}
    assert sorted(lr for lr, r in rmses.items() if r < 0.5) == [0.1, 0.3]


def test_quickstart_in_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _fresh_project(tmp_path / "project")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["quickstart", "--no-notebook"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"Logged 5 runs to experiment 'quickstart' in {project / '.nbtrack'}")
    table = out.split("\n\n")[1].splitlines()
    assert table[0].split()[:2] == ["run_id", "name"]
    assert "metrics.rmse" in table[0] and "params.lr" in table[0]
    assert sorted(line.split()[1] for line in table[1:]) == NAMES
    best = next(line for line in table[1:] if "lr0.3-ep20" in line)
    assert "0.220539" in best.split()
    assert 'nbtrack runs list --filter "metrics.rmse < 0.5"' in out
    assert "nbt.search_runs(" in out
    assert (project / ".nbtrack" / "nbtrack.db").is_file()

    again = CliRunner().invoke(
        cli, ["runs", "list", "-e", "quickstart", "--filter", "metrics.rmse < 0.5", "--json"]
    )
    rows = json.loads(again.stdout)
    assert sorted(r["run_name"] for r in rows) == ["lr0.1-ep20", "lr0.3-ep20"]
    row = rows[0]
    assert row["params.epochs"] == "20" and row["tags.model"] == "linear-regression"
    assert row["status"] == "FINISHED"

    import nbtrack

    client = nbtrack.Client(str(project / ".nbtrack"))
    assert len(client.get_metric_history(row["run_id"], "loss")) == 20
    assert [a.path for a in client.list_artifacts(row["run_id"])] == ["config.yaml"]
    local = client.download_artifacts(row["run_id"], "config.yaml", str(tmp_path / "dl"))
    assert "optimizer: gradient descent" in Path(local).read_text()


def test_quickstart_dir_and_runs(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(
        cli,
        ["quickstart", "--dir", str(folder), "--runs", "7", "--no-notebook"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Logged 7 runs" in result.stdout
    assert "lr0.03-ep40" in result.stdout  # the 7th run: second round, more epochs
    assert f"cd {folder}" in result.stdout
    runs = CliRunner().invoke(
        cli, ["--tracking-uri", str(folder / ".nbtrack"), "runs", "list", "--json"]
    )
    assert len(json.loads(runs.stdout)) == 7


def test_quickstart_refuses_a_deleted_experiment(invoke) -> None:
    invoke("quickstart", "--runs", "1", "--no-notebook")
    invoke("experiments", "delete", "quickstart")
    err = invoke("quickstart", "--no-notebook", code=1).stderr
    assert err.startswith("Error: Experiment 'quickstart' is deleted; bring it back with")


def _console_script() -> str:
    beside = Path(sys.executable).with_name("nbtrack")
    found = str(beside) if beside.exists() else shutil.which("nbtrack")
    assert found, "the nbtrack console script is not installed (pip install -e .)"
    return found


def test_console_script_quickstart_then_runs_list_json(tmp_path: Path) -> None:
    project = _fresh_project(tmp_path / "fresh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    nbtrack = _console_script()

    def run(*args: str) -> str:
        done = subprocess.run(
            [nbtrack, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        # The kernel is shut down, not left to notice its parent is gone (it inherits
        # the pipe, so a kernel outliving the command would print here).
        assert "Parent appears to have exited" not in done.stderr
        return done.stdout

    out = run("quickstart")
    assert "Logged 5 runs to experiment 'quickstart'" in out
    assert "jupyter lab quickstart.ipynb" in out
    rows = json.loads(run("runs", "list", "--json"))
    assert sorted(r["run_name"] for r in rows) == sorted([*NAMES, "notebook-run"])
    # The notebook's %%track cell, executed in a real kernel, is a run with no logging code.
    cell_run = next(r for r in rows if r["run_name"] == "notebook-run")
    assert (cell_run["params.lr"], cell_run["params.epochs"]) == ("0.3", "20")
    assert round(cell_run["metrics.rmse"], 6) == 0.220539
    assert cell_run["tags.nbtrack.source.name"] == str(project / "quickstart.ipynb")
    assert "lr = 0.3" in run("lineage", cell_run["run_id"])
    notebook = json.loads((project / "quickstart.ipynb").read_text())
    printed = [
        "".join(o.get("text", ""))
        for cell in notebook["cells"]
        for o in cell.get("outputs", [])
        if o.get("name") == "stdout"
    ]
    assert any("rmse=0.2205" in text for text in printed), printed
    rows = [r for r in rows if r["run_name"] != "notebook-run"]
    assert sorted(r["run_name"] for r in rows) == NAMES
    rmse = {r["run_name"]: r["metrics.rmse"] for r in rows}
    assert round(rmse["lr0.3-ep20"], 6) == 0.220539
    assert all(len(r["run_id"]) == 32 and r["status"] == "FINISHED" for r in rows)
    assert {r["params.lr"] for r in rows} == {"0.01", "0.03", "0.1", "0.3", "1.0"}
    assert (project / ".nbtrack" / "nbtrack.db").is_file()
    assert (project / ".nbtrack" / "artifacts").is_dir()
