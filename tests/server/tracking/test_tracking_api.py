"""MLflow's REST API and nbtrack's routes on a real ``nbtrack server``, spoken with httpx.

What a client sees: status codes, MLflow's bodies and error bodies naming the
offending field, NaN metrics both ways, page tokens, artifact URIs as
``mlflow-artifacts:/``, and writes retried with the same request id stored once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

M = "/api/2.0/mlflow"
N = "/api/2.0/nbtrack"


@pytest.fixture(scope="module")
def http(tracking_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tracking_server, timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    return str(body["message"])


def new_experiment(http: httpx.Client) -> str:
    out = ok(http.post(f"{M}/experiments/create", json={"name": f"e-{uuid.uuid4().hex[:8]}"}))
    return str(out["experiment_id"])


def new_run(http: httpx.Client, exp_id: str, **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": exp_id, "user_id": "ada", "start_time": 1000, **fields}
    return ok(http.post(f"{M}/runs/create", json=body))["run"]  # type: ignore[no-any-return]


def test_health_and_version(http: httpx.Client, running_server: Any) -> None:
    import nbtrack

    # Served on 127.0.0.1: no warning about the network (test_server_cli checks 0.0.0.0's).
    assert "Warning" not in running_server.log.read_text()

    assert http.get("/health").text == "OK"
    assert http.get("/version").text == nbtrack.__version__
    info = ok(http.get(f"{N}/server-info"))
    assert info == {
        "version": nbtrack.__version__,
        "artifacts_destination_scheme": "file",
        "auth": False,
    }


def test_experiments_round_trip(http: httpx.Client, running_server: Any) -> None:
    name = f"wine-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "tags": [{"key": "team", "value": "ml"}]}
    exp_id = ok(http.post(f"{M}/experiments/create", json=body))["experiment_id"]
    exp = ok(http.get(f"{M}/experiments/get", params={"experiment_id": exp_id}))["experiment"]
    assert exp["name"] == name
    assert exp["tags"] == [{"key": "team", "value": "ml"}]
    assert exp["lifecycle_stage"] == "active"
    # The store keeps the real folder; clients see the proxy's URI.
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    by_name = ok(http.get(f"{M}/experiments/get-by-name", params={"experiment_name": name}))
    assert by_name["experiment"]["experiment_id"] == exp_id

    message = error(
        http.post(f"{M}/experiments/create", json={"name": name}), 400, "RESOURCE_ALREADY_EXISTS"
    )
    assert name in message
    error(
        http.get(f"{M}/experiments/get", params={"experiment_id": "987654"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    error(
        http.get(f"{M}/experiments/get-by-name", params={"experiment_name": "nope-x"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    renamed = name + "-2"
    ok(http.post(f"{M}/experiments/update", json={"experiment_id": exp_id, "new_name": renamed}))
    tag = {"experiment_id": exp_id, "key": "stage", "value": "dev"}
    ok(http.post(f"{M}/experiments/set-experiment-tag", json=tag))
    exp = ok(http.get(f"{M}/experiments/get", params={"experiment_id": exp_id}))["experiment"]
    assert exp["name"] == renamed
    assert {"key": "stage", "value": "dev"} in exp["tags"]

    ok(http.post(f"{M}/experiments/delete", json={"experiment_id": exp_id}))
    deleted = ok(http.post(f"{M}/experiments/search", json={"view_type": "DELETED_ONLY"}))
    assert exp_id in [e["experiment_id"] for e in deleted["experiments"]]
    ok(http.post(f"{M}/experiments/restore", json={"experiment_id": exp_id}))
    active = ok(http.post(f"{M}/experiments/search", json={"filter": f"name = '{renamed}'"}))
    assert [e["experiment_id"] for e in active["experiments"]] == [exp_id]


def test_experiment_search_pages(http: httpx.Client) -> None:
    prefix = f"paged-{uuid.uuid4().hex[:6]}"
    made = {
        ok(http.post(f"{M}/experiments/create", json={"name": f"{prefix}-{i}"}))["experiment_id"]
        for i in range(5)
    }
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body: dict[str, Any] = {"filter": f"name LIKE '{prefix}%'", "max_results": 2}
        if token:
            body["page_token"] = token
        out = ok(http.post(f"{M}/experiments/search", json=body))
        seen += [e["experiment_id"] for e in out["experiments"]]
        pages += 1
        token = out.get("next_page_token")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(made)
    # MLflow's CLI and UI search with GET too.
    got = ok(http.get(f"{M}/experiments/search", params={"max_results": 1}))
    assert len(got["experiments"]) == 1


def test_runs_create_log_search(http: httpx.Client) -> None:
    exp_id = new_experiment(http)
    run = new_run(http, exp_id, run_name="first", tags=[{"key": "model", "value": "svm"}])
    info = run["info"]
    run_id = info["run_id"]
    assert info["status"] == "RUNNING"
    assert info["run_name"] == "first"
    assert info["user_id"] == "ada"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"model": "svm", "mlflow.runName": "first"}

    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "loss", "value": 0.5, "timestamp": 10, "step": 0},
            {"key": "loss", "value": 0.25, "timestamp": 11, "step": 1},
            {"key": "acc", "value": "NaN", "timestamp": 12, "step": 1},
        ],
        "params": [{"key": "C", "value": "1.0"}],
        "tags": [{"key": "note", "value": "hi"}],
    }
    ok(http.post(f"{M}/runs/log-batch", json=batch))
    ok(
        http.post(
            f"{M}/runs/log-metric",
            json={"run_id": run_id, "key": "lr", "value": 0.1, "timestamp": 13},
        )
    )
    ok(http.post(f"{M}/runs/log-parameter", json={"run_id": run_id, "key": "k", "value": "3"}))
    ok(http.post(f"{M}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v"}))
    ok(http.post(f"{M}/runs/delete-tag", json={"run_id": run_id, "key": "t"}))

    got = ok(http.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]
    metrics = {m["key"]: m["value"] for m in got["data"]["metrics"]}
    assert metrics == {"loss": 0.25, "acc": "NaN", "lr": 0.1}
    assert {p["key"]: p["value"] for p in got["data"]["params"]} == {"C": "1.0", "k": "3"}
    assert "t" not in {t["key"] for t in got["data"]["tags"]}

    history = ok(
        http.get(f"{M}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    )
    assert [(m["step"], m["value"], m["timestamp"]) for m in history["metrics"]] == [
        (0, 0.5, 10),
        (1, 0.25, 11),
    ]

    second = new_run(http, exp_id, run_name="second")["info"]["run_id"]
    ok(
        http.post(
            f"{M}/runs/log-batch",
            json={"run_id": second, "metrics": [{"key": "loss", "value": 0.75, "timestamp": 1}]},
        )
    )
    found = ok(
        http.post(
            f"{M}/runs/search", json={"experiment_ids": [exp_id], "filter": "metrics.loss < 0.5"}
        )
    )
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    ordered = ok(
        http.post(
            f"{M}/runs/search",
            json={"experiment_ids": [exp_id], "order_by": ["metrics.loss DESC"], "max_results": 1},
        )
    )
    assert [r["info"]["run_id"] for r in ordered["runs"]] == [second]
    following = ok(
        http.post(
            f"{M}/runs/search",
            json={
                "experiment_ids": [exp_id],
                "order_by": ["metrics.loss DESC"],
                "max_results": 1,
                "page_token": ordered["next_page_token"],
            },
        )
    )
    assert [r["info"]["run_id"] for r in following["runs"]] == [run_id]
    assert "next_page_token" not in following

    ended = ok(
        http.post(f"{M}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 99})
    )
    assert ended["run_info"]["status"] == "FINISHED"
    assert ended["run_info"]["end_time"] == 99
    # MLflow's client sends enum numbers too (3 is FINISHED).
    ok(http.post(f"{M}/runs/update", json={"run_uuid": second, "status": 3}))
    # As on MLflow's server, an ended run still takes data (test_mlflow_semantics.py).
    ok(
        http.post(
            f"{M}/runs/log-metric",
            json={"run_id": run_id, "key": "late", "value": 1.0, "timestamp": 1},
        )
    )

    ok(http.post(f"{M}/runs/delete", json={"run_id": second}))
    active = ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}))
    assert [r["info"]["run_id"] for r in active["runs"]] == [run_id]
    ok(http.post(f"{M}/runs/restore", json={"run_id": second}))
    assert len(ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}))["runs"]) == 2


def test_nan_and_infinity_in_both_spellings(http: httpx.Client) -> None:
    run_id = new_run(http, new_experiment(http))["info"]["run_id"]
    # Python's json writes bare NaN/Infinity, as some clients do; MLflow's writes strings.
    raw = (
        '{"run_id": "RUN", "metrics": [{"key": "m", "value": NaN, "timestamp": 1, "step": 0},'
        '{"key": "m", "value": Infinity, "timestamp": 2, "step": 1},'
        '{"key": "m", "value": "-Infinity", "timestamp": 3, "step": 2}]}'
    ).replace("RUN", run_id)
    ok(http.post(f"{M}/runs/log-batch", content=raw, headers={"Content-Type": "application/json"}))
    history = ok(http.get(f"{M}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}))
    assert [m["value"] for m in history["metrics"]] == ["NaN", "Infinity", "-Infinity"]
    points = ok(http.get(f"{N}/metrics/get-points", params={"run_id": run_id, "metric_key": "m"}))
    assert points == {
        "steps": [0, 1, 2],
        "timestamps": [1, 2, 3],
        "values": ["NaN", "Infinity", "-Infinity"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": 12}, "name"),
        ({"name": "x", "tags": [{"key": "a", "value": 1}]}, "tags[0].value"),
        ({"name": "x", "tags": {"key": "a"}}, "tags"),
        ({"tags": []}, "name"),
        ({"name": "x", "tags": [{"value": "v"}]}, "tags[0].key"),
    ],
)
def test_bad_bodies_name_the_field(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    message = error(http.post(f"{M}/experiments/create", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert f"'{field}'" in message


def test_malformed_and_oversized_bodies(http: httpx.Client) -> None:
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        message = error(
            http.post(f"{M}/experiments/create", content=raw), 400, "INVALID_PARAMETER_VALUE"
        )
        assert "JSON" in message
    huge = json.dumps({"name": "x" * (17 * 1024 * 1024)})
    message = error(
        http.post(f"{M}/experiments/create", content=huge), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "limit" in message
    # The server keeps serving after each of them.
    assert http.get("/health").text == "OK"


def test_wrong_types_in_log_batch(http: httpx.Client) -> None:
    run_id = new_run(http, new_experiment(http))["info"]["run_id"]
    cases = [
        ({"key": "m", "value": "high", "timestamp": 1}, "metrics[0].value"),
        ({"key": "m", "value": 1.0, "timestamp": "soon"}, "metrics[0].timestamp"),
        ({"key": "m", "value": 1.0}, "metrics[0].timestamp"),
        ({"key": "m", "value": 1.0, "timestamp": 1, "unit": "s"}, "metrics[0].unit"),
    ]
    for metric, field in cases:
        body = {"run_id": run_id, "metrics": [metric]}
        message = error(http.post(f"{M}/runs/log-batch", json=body), 400, "INVALID_PARAMETER_VALUE")
        assert field in message
    too_many = [{"key": "m", "value": 1.0, "timestamp": i, "step": i} for i in range(1001)]
    message = error(
        http.post(f"{M}/runs/log-batch", json={"run_id": run_id, "metrics": too_many}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "1000" in message
    # Nothing of the refused batches was stored.
    history = ok(http.get(f"{M}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}))
    assert history["metrics"] == []
    error(
        http.post(f"{M}/runs/log-batch", json={"run_id": "0" * 32, "metrics": []}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": 0, "step": 2**63}]}, "step"),
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": -3, "step": 0}]}, "timestamp"),
        ({"metrics": [{"key": "ab/", "value": 1.0, "timestamp": 0}]}, "metrics[0].key"),
        ({"params": [{"key": "a//b", "value": "1"}]}, "params[0].key"),
        (
            {
                "metrics": [
                    {"key": "m", "value": 1.0, "timestamp": 0, "step": i} for i in range(950)
                ],
                "params": [{"key": f"p{i}", "value": "1"} for i in range(51)],
            },
            "in all",
        ),
        (
            {
                "tags": [{"key": f"t{i}", "value": "x" * 7999} for i in range(100)],
                "params": [{"key": f"p{i}", "value": "y" * 5000} for i in range(40)],
            },
            "limit of 1000000 bytes",
        ),
    ],
)
def test_batches_mlflow_refuses(http: httpx.Client, batch: dict[str, Any], field: str) -> None:
    run_id = new_run(http, new_experiment(http))["info"]["run_id"]
    message = error(
        http.post(f"{M}/runs/log-batch", json={"run_id": run_id, **batch}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert field in message
    data = ok(http.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]["data"]
    assert data["metrics"] == [] and data["params"] == []


def test_unknown_route_and_method(http: httpx.Client) -> None:
    error(http.get(f"{M}/nothing-here"), 404, "ENDPOINT_NOT_FOUND")
    response = http.get(f"{M}/runs/log-batch")
    assert response.status_code == 405
    assert response.json()["error_code"] == "BAD_REQUEST"


def test_retried_writes_are_stored_once(http: httpx.Client) -> None:
    run_id = new_run(http, new_experiment(http))["info"]["run_id"]
    rid = uuid.uuid4().hex
    first = {"run_id": run_id, "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]}
    retry = {"run_id": run_id, "metrics": [{"key": "m", "value": 2.0, "timestamp": 2, "step": 1}]}
    headers = {"Nbtrack-Request-Id": rid}
    ok(http.post(f"{M}/runs/log-batch", json=first, headers=headers))
    ok(http.post(f"{M}/runs/log-batch", json=retry, headers=headers))  # same id: a no-op
    ok(http.post(f"{M}/runs/log-batch", json=retry))  # no id: MLflow's behaviour, stored
    points = ok(http.get(f"{N}/metrics/get-points", params={"run_id": run_id, "metric_key": "m"}))
    assert points["values"] == [1.0, 2.0]

    rid = uuid.uuid4().hex
    body = {"points": [[run_id, "p", 0.5, 5, 0], [run_id, "p", 0.25, 6, 1]]}
    ok(http.post(f"{N}/metrics/log-points", json=body, headers={"Nbtrack-Request-Id": rid}))
    body = {"points": [[run_id, "p", 9.0, 7, 2]]}
    ok(http.post(f"{N}/metrics/log-points", json=body, headers={"Nbtrack-Request-Id": rid}))
    points = ok(http.get(f"{N}/metrics/get-points", params={"run_id": run_id, "metric_key": "p"}))
    assert points["values"] == [0.5, 0.25]

    rid = uuid.uuid4().hex
    end = {
        "run_id": run_id,
        "status": "FINISHED",
        "end_time": 50,
        "metrics": [{"key": "last", "value": 3.0, "timestamp": 8, "step": 0}],
    }
    ok(http.post(f"{N}/runs/end", json=end, headers={"Nbtrack-Request-Id": rid}))
    ok(http.post(f"{N}/runs/end", json=end, headers={"Nbtrack-Request-Id": rid}))
    info = ok(http.get(f"{N}/runs/get-info", params={"run_id": run_id}))["run_info"]
    assert (info["status"], info["end_time"]) == ("FINISHED", 50)
    points = ok(
        http.get(f"{N}/metrics/get-points", params={"run_id": run_id, "metric_key": "last"})
    )
    assert points["values"] == [3.0]
    error(
        http.post(f"{M}/runs/log-batch", json=first, headers={"Nbtrack-Request-Id": "nothex"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_nbtrack_create_with_run_id_is_retry_safe(http: httpx.Client) -> None:
    exp_id = new_experiment(http)
    run_id = uuid.uuid4().hex
    body = {
        "experiment_id": exp_id,
        "user_id": "ada",
        "start_time": 5,
        "run_name": "r",
        "tags": [],
        "run_id": run_id,
    }
    first = ok(http.post(f"{N}/runs/create", json=body))["run"]
    again = ok(http.post(f"{N}/runs/create", json=body))["run"]
    assert first["info"]["run_id"] == again["info"]["run_id"] == run_id
    other = new_experiment(http)
    error(
        http.post(f"{N}/runs/create", json={**body, "experiment_id": other}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    count = ok(http.get(f"{N}/runs/count"))["count"]
    assert count >= 1
    bad = {"points": [[run_id, "p", "x", 1, 0]]}
    message = error(http.post(f"{N}/metrics/log-points", json=bad), 400, "INVALID_PARAMETER_VALUE")
    assert "points[0].value" in message
    error(
        http.post(f"{N}/metrics/log-points", json={"points": [["f" * 32, "p", 1.0, 1, 0]]}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_lineage_and_purge(http: httpx.Client) -> None:
    session = uuid.uuid4().hex
    executions = [
        {
            "session_id": session,
            "cell_id": "c1",
            "execution_count": 1,
            "source": "x = 1",
            "start_time": 10,
            "duration_ms": 1.5,
            "ok": True,
        },
        {
            "session_id": session,
            "cell_id": None,
            "execution_count": 2,
            "source": "y = x",
            "start_time": 11,
            "duration_ms": None,
            "ok": None,
        },
    ]
    ok(http.post(f"{N}/lineage/log", json={"executions": executions}))
    got = ok(http.get(f"{N}/lineage/get", params={"session_id": session}))["executions"]
    assert [e["source"] for e in got] == ["x = 1", "y = x"]
    assert got[0]["duration_ms"] == 1.5 and got[0]["ok"] is True
    one = ok(http.get(f"{N}/lineage/get", params={"session_id": session, "max_results": 1}))
    assert len(one["executions"]) == 1

    exp_id = new_experiment(http)
    run_id = new_run(http, exp_id)["info"]["run_id"]
    ok(http.post(f"{M}/runs/delete", json={"run_id": run_id}))
    dry = ok(http.post(f"{N}/runs/purge", json={"dry_run": True}))
    assert run_id in [r[0] for r in dry["runs"]]
    ok(http.post(f"{N}/runs/purge", json={"dry_run": False}))
    error(http.get(f"{M}/runs/get", params={"run_id": run_id}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_registry_routes(http: httpx.Client) -> None:
    exp_id = new_experiment(http)
    run_id = new_run(http, exp_id)["info"]["run_id"]
    name = f"iris-{uuid.uuid4().hex[:6]}"
    model = ok(
        http.post(
            f"{M}/registered-models/create",
            json={"name": name, "tags": [{"key": "k", "value": "v"}]},
        )
    )
    assert model["registered_model"]["name"] == name
    error(
        http.post(f"{M}/registered-models/create", json={"name": name}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    mv = ok(
        http.post(
            f"{M}/model-versions/create",
            json={"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
    )
    assert mv["model_version"]["version"] == "1"
    ok(
        http.post(
            f"{M}/registered-models/alias", json={"name": name, "alias": "champion", "version": "1"}
        )
    )
    by_alias = ok(
        http.get(f"{M}/registered-models/alias", params={"name": name, "alias": "champion"})
    )
    assert by_alias["model_version"]["aliases"] == ["champion"]
    uri = ok(
        http.get(f"{M}/model-versions/get-download-uri", params={"name": name, "version": "1"})
    )
    assert uri["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts/model"
    found = ok(http.get(f"{M}/registered-models/search", params={"filter": f"name = '{name}'"}))
    assert [m["name"] for m in found["registered_models"]] == [name]
    assert found["registered_models"][0]["aliases"] == [{"alias": "champion", "version": "1"}]
    versions = ok(http.get(f"{M}/model-versions/search", params={"filter": f"name = '{name}'"}))
    assert [v["version"] for v in versions["model_versions"]] == ["1"]
    staged = ok(
        http.post(
            f"{M}/model-versions/transition-stage",
            json={
                "name": name,
                "version": "1",
                "stage": "Production",
                "archive_existing_versions": False,
            },
        )
    )
    assert staged["model_version"]["current_stage"] == "Production"
    latest = ok(
        http.post(
            f"{M}/registered-models/get-latest-versions",
            json={"name": name, "stages": ["Production"]},
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == ["1"]
    updated = ok(
        http.patch(
            f"{M}/registered-models/update", json={"name": name, "description": "the iris one"}
        )
    )
    assert updated["registered_model"]["description"] == "the iris one"
    ok(
        http.post(
            f"{M}/model-versions/set-tag",
            json={"name": name, "version": "1", "key": "q", "value": "good"},
        )
    )
    got = ok(http.get(f"{M}/model-versions/get", params={"name": name, "version": "1"}))
    assert {"key": "q", "value": "good"} in got["model_version"]["tags"]
    # MLflow 3's client adds a clause leaving prompts out of every registry search.
    mlflow_filter = f"name = '{name}' AND tag.`mlflow.prompt.is_prompt` != 'true'"
    found = ok(http.get(f"{M}/registered-models/search", params={"filter": mlflow_filter}))
    assert [m["name"] for m in found["registered_models"]] == [name]
    both = ok(
        http.post(
            f"{N}/registered-models/search", json={"filter": f"name = '{name}'", "prompts": None}
        )
    )
    assert [m["name"] for m in both["registered_models"]] == [name]
    prompts = ok(
        http.post(
            f"{N}/registered-models/search", json={"filter": f"name = '{name}'", "prompts": True}
        )
    )
    assert prompts["registered_models"] == []
    # MLflow's client sends DELETE with a JSON body.
    ok(
        http.request(
            "DELETE", f"{M}/registered-models/alias", json={"name": name, "alias": "champion"}
        )
    )
    ok(http.request("DELETE", f"{M}/model-versions/delete", json={"name": name, "version": "1"}))
    ok(http.request("DELETE", f"{M}/registered-models/delete", json={"name": name}))
    error(
        http.get(f"{M}/registered-models/get", params={"name": name}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_logged_models(http: httpx.Client) -> None:
    exp_id = new_experiment(http)
    run_id = new_run(http, exp_id)["info"]["run_id"]
    body = {
        "experiment_id": exp_id,
        "name": "model",
        "source_run_id": run_id,
        "params": [{"key": "C", "value": "1"}],
        "tags": [{"key": "a", "value": "b"}],
    }
    model = ok(http.post(f"{M}/logged-models", json=body))["model"]
    model_id = model["info"]["model_id"]
    assert model["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert (
        model["info"]["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/models/{model_id}/artifacts"
    )
    done = ok(
        http.patch(
            f"{M}/logged-models/{model_id}",
            json={"model_id": model_id, "status": "LOGGED_MODEL_READY"},
        )
    )
    assert done["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    ok(
        http.patch(
            f"{M}/logged-models/{model_id}/tags", json={"tags": [{"key": "x", "value": "y"}]}
        )
    )
    ok(http.request("DELETE", f"{M}/logged-models/{model_id}/tags/a"))
    got = ok(http.get(f"{M}/logged-models/{model_id}"))["model"]
    assert got["info"]["tags"] == [{"key": "x", "value": "y"}]
    assert got["data"]["params"] == [{"key": "C", "value": "1"}]
    found = ok(
        http.post(
            f"{M}/logged-models/search",
            json={"experiment_ids": [exp_id], "filter": "name = 'model'"},
        )
    )
    assert [m["info"]["model_id"] for m in found["models"]] == [model_id]
    ok(
        http.post(
            f"{M}/runs/outputs",
            json={"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]},
        )
    )
    ok(http.request("DELETE", f"{M}/logged-models/{model_id}"))
    error(http.get(f"{M}/logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    kept = ok(http.get(f"{M}/logged-models/{model_id}", params={"allow_deleted": "true"}))
    assert kept["model"]["info"]["model_id"] == model_id


def test_artifact_listing_is_run_relative(http: httpx.Client, running_server: Any) -> None:
    exp_id = new_experiment(http)
    run_id = new_run(http, exp_id)["info"]["run_id"]
    folder = Path(running_server.artifacts) / exp_id / run_id / "artifacts" / "plots"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("hello")
    top = ok(http.get(f"{M}/artifacts/list", params={"run_id": run_id}))
    assert top["root_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert top["files"] == [{"path": "plots", "is_dir": True}]
    inner = ok(http.get(f"{M}/artifacts/list", params={"run_id": run_id, "path": "plots"}))
    assert inner["files"] == [{"path": "plots/a.txt", "is_dir": False, "file_size": 5}]


def test_server_writes_read_back_through_client(
    http: httpx.Client, tracking_server_store: Path
) -> None:
    import nbtrack

    exp_id = new_experiment(http)
    run_id = new_run(http, exp_id, run_name="shared")["info"]["run_id"]
    ok(
        http.post(
            f"{M}/runs/log-batch",
            json={
                "run_id": run_id,
                "params": [{"key": "alpha", "value": "0.5"}],
                "metrics": [{"key": "rmse", "value": 0.7, "timestamp": 3, "step": 2}],
            },
        )
    )
    run = nbtrack.Client(str(tracking_server_store)).get_run(run_id)
    assert run.info.run_name == "shared"
    assert run.data.params == {"alpha": "0.5"}
    assert run.data.metrics == {"rmse": 0.7}
