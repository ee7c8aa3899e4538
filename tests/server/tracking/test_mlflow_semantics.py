"""The same requests to a real ``mlflow server`` (3.17) and to ``nbtrack server``, answers compared.

Each test sends identical HTTP requests to both servers, each over a fresh
SQLite store, and asserts what a user of MLflow's client would see: the same
status codes, the same stored data, the same sampled points. Where nbtrack
answers differently on purpose (the marker at the end of a cut value, the
error code of a deleted run), the test says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mlflow_servers import mlflow_server
from tracking_servers import RunningServer

import nbtrack as nbt
from nbtrack import _validation as check
from nbtrack.errors import RunNotActiveError

M = "/api/2.0/mlflow"
SERVERS = ("mlflow", "nbtrack")


@pytest.fixture(scope="module")
def both(
    running_server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, httpx.Client]]:
    """An httpx client on each server: ``{"mlflow": …, "nbtrack": …}``."""
    with (
        mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as mlflow_url,
        httpx.Client(base_url=mlflow_url, timeout=120) as mlflow,
        httpx.Client(base_url=running_server.url, timeout=120) as ours,
    ):
        yield {"mlflow": mlflow, "nbtrack": ours}


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _new_run(http: httpx.Client, name: str) -> str:
    found = http.get(f"{M}/experiments/get-by-name", params={"experiment_name": name})
    if found.status_code == 200:
        exp_id = found.json()["experiment"]["experiment_id"]
    else:
        exp_id = _ok(http.post(f"{M}/experiments/create", json={"name": name}))["experiment_id"]
    body = {"experiment_id": exp_id, "start_time": 1}
    return str(_ok(http.post(f"{M}/runs/create", json=body))["run"]["info"]["run_id"])


def _data(http: httpx.Client, run_id: str) -> dict[str, Any]:
    run = _ok(http.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]
    return {
        "status": run["info"]["status"],
        "params": {p["key"]: p["value"] for p in run["data"].get("params", [])},
        "tags": {
            t["key"]: t["value"]
            for t in run["data"].get("tags", [])
            if not t["key"].startswith("mlflow.")
        },
        "metrics": {m["key"]: m["value"] for m in run["data"].get("metrics", [])},
    }


# -- keys -------------------------------------------------------------------------------

KEYS = ["val:loss", "a:b:c", "a..b", "a/..b", " pad ", "..a", "a/./b", "a/", ".", "a\tb", "x;y"]


def test_keys_are_accepted_and_refused_alike(both: dict[str, httpx.Client]) -> None:
    statuses: dict[str, list[int]] = {}
    for http in both.values():
        run_id = _new_run(http, "keys")
        for key in KEYS:
            for route, body in (
                ("log-metric", {"key": key, "value": 1.0, "timestamp": 1, "step": 0}),
                ("log-parameter", {"key": key, "value": "1"}),
                ("set-tag", {"key": key, "value": "v"}),
            ):
                answer = http.post(f"{M}/runs/{route}", json={"run_id": run_id, **body})
                statuses.setdefault(f"{route} {key!r}", []).append(answer.status_code)
    differ = {what: codes for what, codes in statuses.items() if codes[0] != codes[1]}
    assert differ == {}
    assert statuses["log-metric 'val:loss'"] == [200, 200]
    assert statuses["log-metric 'a/./b'"] == [400, 400]


# -- over-long values -----------------------------------------------------------------------


def test_over_long_params_and_tags_are_cut_and_answered_200(
    both: dict[str, httpx.Client], running_server: RunningServer
) -> None:
    long_param, long_tag = "p" * 6004 + "END", "t" * 8005
    stored = {}
    for name, http in both.items():
        run_id = _new_run(http, "long-values")
        for route, body in (
            ("log-parameter", {"key": "notes", "value": long_param}),
            ("set-tag", {"key": "log", "value": long_tag}),
            (
                "log-batch",
                {
                    "params": [{"key": "grid", "value": "g" * 7000}],
                    "tags": [{"key": "trace", "value": "w" * 9000}],
                },
            ),
        ):
            answer = http.post(f"{M}/runs/{route}", json={"run_id": run_id, **body})
            assert answer.status_code == 200, f"{name} {route}: {answer.text}"
        stored[name] = _data(http, run_id)
    for data in stored.values():
        assert {k: len(v) for k, v in data["params"].items()} == {"notes": 6000, "grid": 6000}
        assert {k: len(v) for k, v in data["tags"].items()} == {"log": 8000, "trace": 8000}
    ours, theirs = stored["nbtrack"], stored["mlflow"]
    assert theirs["params"]["notes"] == long_param[:6000]
    # nbtrack's one cut keeps the same start and says it was cut; MLflow's ends mid-value.
    keep = 6000 - len(check.TRUNCATED)
    assert ours["params"]["notes"] == long_param[:keep] + check.TRUNCATED
    assert ours["tags"]["log"].endswith(check.TRUNCATED)
    assert ours["tags"]["log"][:100] == theirs["tags"]["log"][:100]
    # The server says so in its log, as MLflow's does.
    assert "'notes' has a value of 6007 characters" in running_server.log.read_text()


# -- ended and deleted runs -------------------------------------------------------------------


def test_an_ended_run_takes_data_and_a_deleted_one_refuses_it(
    both: dict[str, httpx.Client],
) -> None:
    for name, http in both.items():
        run_id = _new_run(http, "ended")
        _ok(http.post(f"{M}/runs/update", json={"run_id": run_id, "status": "FINISHED"}))
        writes = {
            "log-metric": {"key": "late", "value": 2.0, "timestamp": 5, "step": 1},
            "log-parameter": {"key": "late_p", "value": "1"},
            "set-tag": {"key": "late_t", "value": "x"},
            "log-batch": {"metrics": [{"key": "late_b", "value": 3.0, "timestamp": 5}]},
        }
        for route, body in writes.items():
            answer = http.post(f"{M}/runs/{route}", json={"run_id": run_id, **body})
            assert answer.status_code == 200, f"{name} {route}: {answer.text}"
        data = _data(http, run_id)
        assert data["status"] == "FINISHED", name
        assert data["metrics"] == {"late": 2.0, "late_b": 3.0}, name
        assert data["params"] == {"late_p": "1"} and data["tags"] == {"late_t": "x"}, name
        _ok(http.post(f"{M}/runs/delete", json={"run_id": run_id}))
        for route, body in writes.items():
            answer = http.post(f"{M}/runs/{route}", json={"run_id": run_id, **body})
            assert answer.status_code == 400, f"{name} {route}: {answer.text}"
            # MLflow says INVALID_PARAMETER_VALUE; nbtrack keeps INVALID_STATE, which its REST
            # store turns back into RunNotActiveError.
            expected = "INVALID_STATE" if name == "nbtrack" else "INVALID_PARAMETER_VALUE"
            assert answer.json()["error_code"] == expected


def test_nbtracks_own_api_still_refuses_an_ended_run_over_http(
    running_server: RunningServer,
) -> None:
    client = nbt.Client(running_server.url)
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "before", 1.0)
    client.set_terminated(run_id)
    for call in (
        lambda: client.log_metric(run_id, "after", 1.0),
        lambda: client.log_param(run_id, "after", 1),
        lambda: client.set_tag(run_id, "after", "1"),
    ):
        with pytest.raises(RunNotActiveError, match="FINISHED"):
            call()
    assert client.get_run(run_id).data.metrics == {"before": 1.0}


# -- get-history-bulk-interval -------------------------------------------------------------------


def _points() -> list[list[dict[str, Any]]]:
    """Three runs' histories: dense with gaps and ties, short, and with NaN and repeated steps."""
    dense = [
        {"key": "loss", "value": 1.0 / (i + 1), "timestamp": 1000 + i, "step": i * 3 // 2}
        for i in range(900)
    ]
    dense += [{"key": "loss", "value": 0.25, "timestamp": 5, "step": 7}]  # a tie on step 7
    short = [{"key": "loss", "value": float(i), "timestamp": 10 + i, "step": i} for i in range(5)]
    odd = [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0} for _ in range(1)]
    odd += [
        {"key": "loss", "value": "NaN" if i % 50 == 0 else i * 0.1, "timestamp": 100 + i, "step": 0}
        for i in range(300)
    ]
    return [dense, short, odd]


QUERIES: list[dict[str, Any]] = [
    {},
    {"max_results": 10},
    {"max_results": 1},
    {"max_results": 7, "start_step": 100, "end_step": 300},
    {"max_results": 2500, "start_step": 0, "end_step": 4},
    {"max_results": 3, "start_step": 2000, "end_step": 3000},
]


def _sampled(answer: dict[str, Any], order: list[str]) -> list[tuple[int, int, int, float | str]]:
    out = []
    for m in answer.get("metrics", []):
        value = float(m["value"]) if m["value"] != "NaN" else float("nan")
        shown: float | str = "nan" if math.isnan(value) else value
        out.append((order.index(m["run_id"]), int(m["step"]), int(m["timestamp"]), shown))
    return out


def test_bulk_interval_samples_the_same_points_as_mlflow(both: dict[str, httpx.Client]) -> None:
    answers: dict[str, list[Any]] = {}
    for name, http in both.items():
        runs = []
        for points in _points():
            run_id = _new_run(http, "bulk-interval")
            for i in range(0, len(points), 1000):
                batch = {"run_id": run_id, "metrics": points[i : i + 1000]}
                _ok(http.post(f"{M}/runs/log-batch", json=batch))
            runs.append(run_id)
        unknown = "f" * 32
        asked = [*runs, unknown]
        for query in QUERIES:
            params: dict[str, Any] = {"run_ids": asked, "metric_key": "loss", **query}
            answer = _ok(http.get(f"{M}/metrics/get-history-bulk-interval", params=params))
            answers.setdefault(name, []).append(_sampled(answer, asked))
        missing = {"run_ids": runs, "metric_key": "nope"}
        answers[name].append(
            _ok(http.get(f"{M}/metrics/get-history-bulk-interval", params=missing))
        )
    for i, query in enumerate([*QUERIES, "missing key"]):
        assert answers["nbtrack"][i] == answers["mlflow"][i], query
    assert len(answers["nbtrack"][1]) == 10 + 5 + 10


@pytest.mark.parametrize(
    "query",
    [
        {"metric_key": "loss"},
        {"run_ids": ["a" * 32]},
        {"run_ids": ["a" * 32], "metric_key": "loss", "start_step": 3},
        {"run_ids": ["a" * 32], "metric_key": "loss", "start_step": 5, "end_step": 2},
        {"run_ids": ["a" * 32], "metric_key": "loss", "max_results": 0},
        {"run_ids": ["a" * 32], "metric_key": "loss", "max_results": 2501},
        {"run_ids": [f"{i:032x}" for i in range(101)], "metric_key": "loss"},
    ],
    ids=["no runs", "no key", "one end", "reversed", "zero", "over 2500", "101 runs"],
)
def test_bulk_interval_refuses_what_mlflow_refuses(
    both: dict[str, httpx.Client], query: dict[str, Any]
) -> None:
    codes = [
        both[name].get(f"{M}/metrics/get-history-bulk-interval", params=query).status_code
        for name in SERVERS
    ]
    assert codes == [400, 400]


# -- logged-model artifact listing ----------------------------------------------------------------


def test_logged_model_artifact_directories_list_as_mlflow(both: dict[str, httpx.Client]) -> None:
    listings: dict[str, list[Any]] = {}
    for name, http in both.items():
        found = http.get(f"{M}/experiments/get-by-name", params={"experiment_name": "models"})
        exp_id = (
            found.json()["experiment"]["experiment_id"]
            if found.status_code == 200
            else _ok(http.post(f"{M}/experiments/create", json={"name": "models"}))["experiment_id"]
        )
        model = _ok(http.post(f"{M}/logged-models", json={"experiment_id": exp_id}))["model"]
        model_id, uri = model["info"]["model_id"], model["info"]["artifact_uri"]
        assert uri.startswith("mlflow-artifacts:/"), uri
        base = "/api/2.0/mlflow-artifacts/artifacts/" + uri.removeprefix("mlflow-artifacts:/")
        for path, content in (
            ("MLmodel", b"flavors: {}\n"),
            ("model.pkl", b"\x80" * 1234),
            ("sub/deep/notes.txt", b"notes"),
        ):
            assert http.put(f"{base}/{path}", content=content).status_code == 200
        route = f"{M}/logged-models/{model_id}/artifacts/directories"
        results = []
        for query in ({}, {"artifact_directory_path": "sub"}, {"artifact_directory_path": "no"}):
            answer = _ok(http.get(route, params=query))
            assert answer["root_uri"] == uri or answer["root_uri"].endswith(uri.split(":/", 1)[1])
            results.append(
                sorted(
                    (f["path"], f["is_dir"], int(f.get("file_size", -1)))
                    for f in answer.get("files", [])
                )
            )
        listings[name] = results
        assert http.get(f"{M}/logged-models/m-{'0' * 32}/artifacts/directories").status_code == 404
    assert listings["nbtrack"] == listings["mlflow"]
    assert listings["nbtrack"][0] == [
        ("MLmodel", False, 12),
        ("model.pkl", False, 1234),
        ("sub", True, -1),
    ]


def test_a_logged_model_path_leaving_its_root_is_refused(running_server: RunningServer) -> None:
    with httpx.Client(base_url=running_server.url, timeout=60) as http:
        exp = _ok(http.post(f"{M}/experiments/create", json={"name": "escape"}))["experiment_id"]
        model = _ok(http.post(f"{M}/logged-models", json={"experiment_id": exp}))["model"]
        route = f"{M}/logged-models/{model['info']['model_id']}/artifacts/directories"
        answer = http.get(route, params={"artifact_directory_path": "../../.."})
        assert answer.status_code == 400, answer.text
