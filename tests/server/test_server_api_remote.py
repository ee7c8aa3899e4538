"""The JupyterLab sidebar's API over a team server: ``c.NbtrackServer.tracking_uri = "http://…"``.

A real ``nbtrack server`` app on 127.0.0.1 holds the store; the Jupyter
server extension reads it through the REST store, so the sidebar shows what
the team logged, artifacts and registry included, and writes nothing locally.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_server import serve_in_thread

import nbtrack as nbt


@pytest.fixture
def team_server(tmp_path: Path) -> Iterator[str]:
    """A tracking server over a fresh store, seeded through an http:// client."""
    with serve_in_thread(str(tmp_path / "team-store")) as url:
        client = nbt.Client(url)
        exp = client.create_experiment("wine")
        for index in range(2):
            run_id = client.create_run(exp, run_name=f"run-{index}").info.run_id
            client.log_param(run_id, "alpha", str(0.1 * (index + 1)))
            for step in range(50):
                client.log_metric(run_id, "loss", 1 / (step + 1) + index, step=step)
            client.log_text(run_id, f"hello {index}", "notes/readme.txt")
            client.set_terminated(run_id)
        client.create_registered_model("iris")
        client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
        client.set_registered_model_alias("iris", "champion", 1)
        yield url


@pytest.fixture
def jp_server_config(team_server: str) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"nbtrack": True}},
        "NbtrackServer": {"tracking_uri": team_server},
    }


async def _get(jp_fetch: Any, *path: str, **params: Any) -> Any:
    response = await jp_fetch("nbtrack", "api", *path, params=params or None)
    assert response.code == 200
    return json.loads(response.body)


async def test_sidebar_reads_a_remote_team_server(
    jp_fetch: Any, jp_root_dir: Path, team_server: str
) -> None:
    experiments = (await _get(jp_fetch, "experiments"))["experiments"]
    exp_id = next(e["experiment_id"] for e in experiments if e["name"] == "wine")
    page = await _get(jp_fetch, "runs", experiment_id=exp_id, order_by="params.alpha DESC")
    assert [r["info"]["run_name"] for r in page["runs"]] == ["run-1", "run-0"]
    run_id = page["runs"][1]["info"]["run_id"]
    assert page["runs"][1]["info"]["artifact_uri"].startswith("mlflow-artifacts:/")

    history = await _get(jp_fetch, "runs", run_id, "metrics", "loss")
    assert history["total"] == 50 and history["points"][0][2] == 1.0
    listing = await _get(jp_fetch, "runs", run_id, "artifacts", path="notes")
    assert [f["path"] for f in listing["files"]] == ["notes/readme.txt"]
    response = await jp_fetch(
        "nbtrack", "api", "runs", run_id, "artifact", params={"path": "notes/readme.txt"}
    )
    assert response.body == b"hello 0"

    model = await _get(jp_fetch, "models", "iris")
    assert model["aliases"] == {"champion": 1}

    # A run logged by a teammate after the page loaded shows on the next refresh.
    teammate = nbt.Client(team_server)
    late = teammate.create_run(exp_id, run_name="late").info.run_id
    again = await _get(jp_fetch, "runs", experiment_id=exp_id)
    assert late in {r["info"]["run_id"] for r in again["runs"]}
    # The folder JupyterLab serves got no local store.
    assert not (jp_root_dir / ".nbtrack").exists()
