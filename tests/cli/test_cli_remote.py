"""The CLI against a team server: ``--tracking-uri http://…`` works as on a local store.

A real tracking server app on 127.0.0.1 (uvicorn in a thread) over a fresh
store; the commands reach it through the REST store, as on a teammate's laptop.
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


def _run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--tracking-uri", url, *args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_runs_artifacts_lineage_export_and_models_on_a_server(
    server_url: str, tmp_path: Path
) -> None:
    client = nbt.Client(server_url)
    exp = client.create_experiment("remote")
    sources = ["alpha = 0.5", "%%track fit\nrmse = alpha * 2\nprint(rmse)"]
    client.log_cell_executions(
        [
            CellExecution("s1", None, i + 1, src, 1000 + i, 1.0, True)
            for i, src in enumerate(sources)
        ]
    )
    runs = {}
    for name, rmse in (("good", 0.4), ("bad", 0.9)):
        tags = {"nbtrack.lineage.session_id": "s1", "nbtrack.lineage.end": "2"}
        run_id = client.create_run(exp, run_name=name, tags=tags).info.run_id
        client.log_param(run_id, "alpha", "0.5")
        client.log_metric(run_id, "rmse", rmse)
        client.log_text(run_id, f"{name} notes", "notes.txt")
        client.set_terminated(run_id)
        runs[name] = run_id
    client.create_registered_model("wine")
    client.create_model_version("wine", f"runs:/{runs['good']}/model", runs["good"])

    rows = json.loads(
        _run(
            server_url, "runs", "list", "-e", "remote", "--filter", "metrics.rmse < 0.5", "--json"
        ).stdout
    )
    assert [(r["run_name"], r["metrics.rmse"]) for r in rows] == [("good", 0.4)]
    shown = _run(server_url, "runs", "show", runs["bad"][:10]).stdout
    assert shown.startswith(f"Run {runs['bad']}  bad")

    out = tmp_path / "downloaded"
    _run(server_url, "artifacts", "download", runs["good"], "notes.txt", "-d", str(out))
    assert (out / "notes.txt").read_text() == "good notes"

    script = _run(server_url, "lineage", runs["good"][:8]).stdout
    assert "alpha = 0.5" in script and "# %%track fit" in script
    project = tmp_path / "replay"
    _run(server_url, "export", "--from-run", runs["good"], "--to", "mlproject", str(project))
    assert "alpha = 0.5" in (project / "main.py").read_text()

    models = json.loads(_run(server_url, "models", "list", "--json").stdout)
    assert [m["name"] for m in models] == ["wine"]

    _run(server_url, "runs", "delete", runs["bad"])
    left = json.loads(_run(server_url, "runs", "list", "-e", "remote", "--json").stdout)
    assert [r["run_name"] for r in left] == ["good"]
