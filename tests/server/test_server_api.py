"""The Jupyter server extension's REST API, over real HTTP through Jupyter Server's auth."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

import nbtrack as nbt


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with an experiment of three runs, a metric history, artifacts and a model."""
    folder = tmp_path / "store"
    client = nbt.Client(str(folder))
    exp = client.create_experiment("wine")
    for index in range(3):
        run = client.create_run(exp, run_name=f"run-{index}")
        run_id = run.info.run_id
        client.log_param(run_id, "alpha", str(0.1 * (index + 1)))
        client.log_param(run_id, "solver", "lbfgs")
        for step in range(5000):
            value = float("nan") if step == 10 else math.sin(step / 50) + index
            client.log_metric(run_id, "loss", value, step=step)
        client.log_text(run_id, f"hello {index}", "notes/readme.txt")
        client.log_dict(run_id, {"a": index}, "config.json")
        client.set_terminated(run_id)
    client.create_registered_model("iris", tags={"team": "ml"})
    client.create_model_version("iris", f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias("iris", "champion", 1)
    client.flush()
    return folder


async def _get(jp_fetch: Any, *path: str, **params: Any) -> Any:
    response = await jp_fetch("nbtrack", "api", *path, params=params or None)
    assert response.code == 200
    return json.loads(response.body)


async def _wine(jp_fetch: Any) -> str:
    found = (await _get(jp_fetch, "experiments"))["experiments"]
    return str(next(e["experiment_id"] for e in found if e["name"] == "wine"))


async def _error(jp_fetch: Any, *path: str, **params: Any) -> tuple[int, dict[str, str]]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await jp_fetch("nbtrack", "api", *path, params=params or None)
    return caught.value.code, json.loads(caught.value.response.body)


async def test_experiments_runs_and_detail(jp_fetch: Any) -> None:
    experiments = await _get(jp_fetch, "experiments")
    by_name = {e["name"]: e for e in experiments["experiments"]}
    exp_id = by_name["wine"]["experiment_id"]

    page = await _get(
        jp_fetch, "runs", experiment_id=exp_id, max_results=2, order_by="params.alpha DESC"
    )
    assert [r["info"]["run_name"] for r in page["runs"]] == ["run-2", "run-1"]
    rest = await _get(
        jp_fetch,
        "runs",
        experiment_id=exp_id,
        page_token=page["next_page_token"],
        max_results=2,
        order_by="params.alpha DESC",
    )
    assert [r["info"]["run_name"] for r in rest["runs"]] == ["run-0"]
    assert rest["next_page_token"] is None

    narrowed = await _get(jp_fetch, "runs", experiment_id=exp_id, filter="params.alpha = '0.1'")
    (run,) = narrowed["runs"]
    assert run["params"] == {"alpha": "0.1", "solver": "lbfgs"}
    run_id = run["info"]["run_id"]
    detail = await _get(jp_fetch, "runs", run_id)
    assert detail["info"]["status"] == "FINISHED"
    assert detail["metrics"]["loss"] == pytest.approx(math.sin(4999 / 50))


async def test_metric_history_is_downsampled_in_the_server(jp_fetch: Any) -> None:
    exp_id = await _wine(jp_fetch)
    run_id = (await _get(jp_fetch, "runs", experiment_id=exp_id))["runs"][0]["info"]["run_id"]
    full = await _get(jp_fetch, "runs", run_id, "metrics", "loss", max_points=100000)
    assert full["total"] == 5000 and not full["downsampled"]
    assert full["points"][10][2] == "nan"  # JSON has no NaN
    thin = await _get(jp_fetch, "runs", run_id, "metrics", "loss", max_points=400)
    assert thin["downsampled"] and len(thin["points"]) <= 400
    values = [p[2] for p in full["points"] if isinstance(p[2], float)]
    kept = [p[2] for p in thin["points"] if isinstance(p[2], float)]
    assert min(kept) == min(values) and max(kept) == max(values)
    assert thin["points"][0][0] == 0 and thin["points"][-1][0] == 4999


async def test_artifacts_lineage_models_compare(jp_fetch: Any) -> None:
    exp_id = await _wine(jp_fetch)
    runs = (await _get(jp_fetch, "runs", experiment_id=exp_id, order_by="params.alpha ASC"))["runs"]
    run_id = runs[0]["info"]["run_id"]
    listing = await _get(jp_fetch, "runs", run_id, "artifacts")
    assert {f["path"]: f["is_dir"] for f in listing["files"]} == {
        "config.json": False,
        "notes": True,
    }
    inner = await _get(jp_fetch, "runs", run_id, "artifacts", path="notes")
    assert [f["path"] for f in inner["files"]] == ["notes/readme.txt"]
    response = await jp_fetch(
        "nbtrack", "api", "runs", run_id, "artifact", params={"path": "notes/readme.txt"}
    )
    assert response.body == b"hello 0"
    assert response.headers["Content-Type"].startswith("text/plain")

    code, body = await _error(jp_fetch, "runs", run_id, "lineage")
    assert code == 404 and "has no lineage" in body["message"]

    models = await _get(jp_fetch, "models")
    assert [m["name"] for m in models["models"]] == ["iris"]
    model = await _get(jp_fetch, "models", "iris")
    assert model["aliases"] == {"champion": 1}
    assert [v["version"] for v in model["versions"]] == [1]

    compared = await _get(jp_fetch, "compare", run_ids=",".join(r["info"]["run_id"] for r in runs))
    assert compared["params_differ"] == ["alpha"]
    assert compared["metric_keys"] == ["loss"]


@pytest.mark.parametrize(
    ("path", "params", "status", "needle"),
    [
        (("runs",), {}, 400, "'experiment_id' is required"),
        (("runs",), {"experiment_id": "1", "filter": "metrics.loss <"}, 400, "position"),
        (("runs",), {"experiment_id": "1", "max_results": "x"}, 400, "must be an integer"),
        (("runs", "0" * 32), {}, 404, "0000"),
        (("models", "nope"), {}, 404, "nope"),
        (("compare",), {"run_ids": "a"}, 400, "at least two"),
    ],
)
async def test_bad_requests_get_4xx_with_a_message(
    jp_fetch: Any, path: tuple[str, ...], params: dict[str, str], status: int, needle: str
) -> None:
    code, body = await _error(jp_fetch, *path, **params)
    assert code == status
    assert needle in body["message"]
    assert body["error_code"]


async def test_artifact_paths_cannot_leave_the_run(jp_fetch: Any) -> None:
    exp_id = await _wine(jp_fetch)
    run_id = (await _get(jp_fetch, "runs", experiment_id=exp_id))["runs"][0]["info"]["run_id"]
    for bad in ("../../../etc/passwd", "/etc/passwd", "notes/../../x"):
        code, body = await _error(jp_fetch, "runs", run_id, "artifact", path=bad)
        assert code == 400, bad
        assert "refused" in body["message"]
    code, body = await _error(jp_fetch, "runs", run_id, "artifact", path="notes")
    assert code == 400 and "is a folder" in body["message"]


async def test_requests_without_a_token_are_refused(
    jp_fetch: Any, jp_base_url: str, jp_http_port: int
) -> None:
    client = tornado.httpclient.AsyncHTTPClient()
    url = f"http://localhost:{jp_http_port}{jp_base_url}nbtrack/api/experiments"
    with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
        await client.fetch(url)
    assert caught.value.code == 403


def test_every_route_is_documented_in_openapi() -> None:
    import re

    import yaml

    from nbtrack.server.jupyter import ROUTES

    spec = yaml.safe_load((Path(nbt.__file__).parent / "server" / "openapi.yaml").read_text())
    documented = set(spec["paths"])
    routed = {"/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path) for path, _ in ROUTES}
    assert routed == documented


async def test_export_writes_an_mlproject_in_the_served_folder(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    import shutil

    source = Path(__file__).parents[1] / "data" / "projects" / "train.ipynb"
    (jp_root_dir / "work").mkdir()
    shutil.copy(source, jp_root_dir / "work" / "train.ipynb")
    response = await jp_fetch(
        "nbtrack", "api", "export", method="POST", body=json.dumps({"path": "work/train.ipynb"})
    )
    done = json.loads(response.body)
    assert done["out"] == "work/train-mlproject"
    assert [p["name"] for p in done["parameters"]] == ["alpha", "l1_ratio", "max_iter", "label"]
    assert (jp_root_dir / "work" / "train-mlproject" / "MLproject").is_file()
    for body, needle in (
        ({"path": "../outside.ipynb"}, "leaves the served folder"),
        ({"path": "work/train.ipynb", "out": "/tmp/elsewhere"}, "leaves the served folder"),
        ({"path": "work/train.ipynb"}, "is not an empty folder"),
        ({}, "must be a path"),
    ):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await jp_fetch("nbtrack", "api", "export", method="POST", body=json.dumps(body))
        assert caught.value.code == 400
        assert needle in json.loads(caught.value.response.body)["message"]
