"""``runs/log-batch`` under random batches, over HTTP to a real server, checked against a model.

Hypothesis draws a run's life as a few batches, each valid or broken in one
way (a bad key, a value that is not a number, a missing timestamp, a
fractional step, an unknown field, a param changed or given two values, a
batch over MLflow's limits). A small model of the run (params, tags, every
point) says what the server must answer and hold afterwards:

- a broken batch gets 400 with MLflow's error body and changes nothing
  (all of the batch or none of it);
- a valid batch (NaN and ±inf values, in both spellings MLflow sends,
  negative steps, ties) is stored whole;
- reading the run back, params and tags are the model's, every metric's
  history is exactly the points sent, and each latest metric is the point of
  the highest (step, timestamp), as MLflow chooses it.

The server is the real app under uvicorn in a thread of this process, over a
fresh SQLite store; the test speaks only HTTP to it.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_API = "/api/2.0/mlflow"

GOOD_KEYS = ["loss", "acc", "val/loss", "lr 0", "x-y.z", "_k"]
BAD_KEYS = ["a!b", "/lead", "a/../b", "k" * 251, "tab\tkey", "semi;colon"]
PARAM_KEYS = ["p0", "p1", "p2"]
PARAM_VALUES = ["1", "2", "a b", ""]
TAG_KEYS = ["t0", "t1", "team"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An httpx client on a real tracking server (uvicorn in a thread) over a fresh store."""
    import uvicorn

    from nbtrack.server.tracking.app import create_app

    root = tmp_path_factory.mktemp("log-batch-property")
    app = create_app(str(root / "store"), str(root / "artifacts"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # bounds a hang only
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}{_API}"
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def experiment_id(api: httpx.Client) -> str:
    """One experiment for every example's run."""
    answer = api.post("/experiments/create", json={"name": "log-batch-property"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["experiment_id"])


# -- what hypothesis draws ---------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 5e-324])
special = st.sampled_from(["NaN", "Infinity", "-Infinity", math.nan, math.inf, -math.inf])
points = st.lists(
    st.tuples(
        st.sampled_from(GOOD_KEYS),
        finite | special,
        st.integers(0, 5),  # timestamps from a small range: ties happen
        st.integers(-3, 6),  # steps, negative ones included (MLflow allows them)
    ),
    max_size=12,
)
params = st.lists(st.tuples(st.sampled_from(PARAM_KEYS), st.sampled_from(PARAM_VALUES)), max_size=4)
tags = st.dictionaries(st.sampled_from(TAG_KEYS), st.text(max_size=8), max_size=3)
#: How a batch is broken, or None for a valid one (half of them).
BREAKS = [
    "bad_key",
    "bad_param_key",
    "value_not_a_number",
    "value_bool",
    "no_timestamp",
    "fractional_step",
    "unknown_field",
    "param_two_values",
    "too_many_metrics",
    "too_many_params",
    "too_many_tags",
]
batches = st.lists(
    st.tuples(points, params, tags, st.none() | st.sampled_from(BREAKS), st.randoms()),
    min_size=1,
    max_size=4,
)


# -- the model ---------------------------------------------------------------------------------


def _number(value: Any) -> float:
    return float(value)  # "NaN", "Infinity" and "-Infinity" parse as Python floats do


def _mark(point: tuple[int, int, float]) -> str:
    """A point as comparable text: NaN equals NaN, and -0.0 is 0.0 (SQL compares them equal)."""
    step, ts, value = point
    return repr((step, ts, value + 0.0))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@dataclass
class RunModel:
    """What the run must hold: params, tags and every point per key."""

    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    points: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)

    def accepts(self, batch_params: list[tuple[str, str]]) -> bool:
        """Whether these params can be logged: none changes a stored value or comes twice."""
        seen: dict[str, str] = {}
        for key, value in batch_params:
            if self.params.get(key, value) != value or seen.get(key, value) != value:
                return False
            seen[key] = value
        return True

    def latest(self, key: str) -> list[float]:
        """The values that may show as the latest: those of the greatest (step, timestamp, value).

        MLflow's order, NaN counting as 0 (it stores NaN as 0 with a flag), so a
        NaN, 0.0 and -0.0 at the top are a tie, and any of them passes.
        """

        def order(point: tuple[int, int, float]) -> tuple[int, int, float]:
            step, ts, value = point
            return (step, ts, 0.0 if math.isnan(value) else value)

        history = self.points[key]
        top = max(order(p) for p in history)
        return [p[2] for p in history if order(p) == top]


def _body(
    run_id: str,
    drawn: list[tuple[str, Any, int, int]],
    batch_params: list[tuple[str, str]],
    batch_tags: dict[str, str],
    breaks: str | None,
    rnd: Any,
) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = [
        {"key": k, "value": v, "timestamp": ts, "step": step} for k, v, ts, step in drawn
    ]
    body: dict[str, Any] = {
        "run_id": run_id,
        "metrics": metrics,
        "params": [{"key": k, "value": v} for k, v in batch_params],
        "tags": [{"key": k, "value": v} for k, v in batch_tags.items()],
    }
    if breaks is None:
        return body
    if breaks.startswith("too_many_"):
        what = breaks.removeprefix("too_many_")
        limit = 1000 if what == "metrics" else 100
        if what == "metrics":
            body[what] = [
                {"key": "bulk", "value": 1.0, "timestamp": 0, "step": i} for i in range(1001)
            ]
        else:
            body[what] = [{"key": f"bulk{i}", "value": "v"} for i in range(limit + 1)]
        return body
    if breaks == "bad_param_key":
        body["params"].append({"key": rnd.choice(BAD_KEYS), "value": "1"})
        return body
    if breaks == "param_two_values":
        body["params"] += [{"key": "twice", "value": "a"}, {"key": "twice", "value": "b"}]
        return body
    if not metrics:
        metrics.append({"key": "loss", "value": 1.0, "timestamp": 0, "step": 0})
    target = rnd.choice(metrics)
    if breaks == "bad_key":
        target["key"] = rnd.choice(BAD_KEYS)
    elif breaks == "value_not_a_number":
        target["value"] = rnd.choice(["abc", "1,5", ""])
    elif breaks == "value_bool":
        target["value"] = rnd.choice([True, False])
    elif breaks == "no_timestamp":
        del target["timestamp"]
    elif breaks == "fractional_step":
        target["step"] = 1.5
    elif breaks == "unknown_field":
        target["colour"] = "blue"
    return body


def _check_run(api: httpx.Client, run_id: str, model: RunModel) -> None:
    data = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert {p["key"]: p["value"] for p in data.get("params", [])} == model.params
    user_tags = {t["key"]: t["value"] for t in data.get("tags", []) if t["key"] in TAG_KEYS}
    assert user_tags == model.tags
    latest = {m["key"]: _number(m["value"]) for m in data.get("metrics", [])}
    assert set(latest) == set(model.points)
    for key, sent in model.points.items():
        shown = latest[key]
        assert any(_same(shown, v) for v in model.latest(key)), (key, shown, model.latest(key))
        answer = api.get("/metrics/get-history", params={"run_id": run_id, "metric_key": key})
        stored = [
            (int(m.get("step", 0)), int(m["timestamp"]), _number(m["value"]))
            for m in answer.json().get("metrics", [])
        ]
        assert sorted(map(_mark, stored)) == sorted(map(_mark, sent)), key


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches)
def test_log_batch_stores_valid_batches_whole_and_refuses_broken_ones_whole(
    api: httpx.Client, experiment_id: str, drawn_batches: list[Any]
) -> None:
    created = api.post("/runs/create", json={"experiment_id": experiment_id, "start_time": 0})
    assert created.status_code == 200, created.text
    run_id = created.json()["run"]["info"]["run_id"]
    model = RunModel()
    for drawn, batch_params, batch_tags, breaks, rnd in drawn_batches:
        # The same point twice is one point in MLflow's store (its primary key): send it once.
        sent = {(key, _mark(p)) for key, history in model.points.items() for p in history}
        fresh = []
        for key, value, ts, step in drawn:
            mark = (key, _mark((step, ts, _number(value))))
            if mark not in sent:
                sent.add(mark)
                fresh.append((key, value, ts, step))
        body = _body(run_id, fresh, batch_params, batch_tags, breaks, rnd)
        answer = api.post("/runs/log-batch", content=json.dumps(body))
        valid = breaks is None and model.accepts(batch_params)
        if not valid:
            assert answer.status_code == 400, (breaks, answer.text)
            error = answer.json()
            assert error["error_code"] == "INVALID_PARAMETER_VALUE", error
            assert isinstance(error["message"], str) and error["message"]
            continue
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json() == {}
        model.params.update(batch_params)
        model.tags.update(batch_tags)
        for key, value, ts, step in fresh:
            model.points.setdefault(key, []).append((step, ts, _number(value)))
    _check_run(api, run_id, model)


def _log_batch(api: httpx.Client, experiment_id: str, **body: Any) -> tuple[str, httpx.Response]:
    created = api.post("/runs/create", json={"experiment_id": experiment_id, "start_time": 0})
    run_id = created.json()["run"]["info"]["run_id"]
    return run_id, api.post("/runs/log-batch", content=json.dumps({"run_id": run_id, **body}))


def test_latest_metric_tie_goes_to_the_highest_value(api: httpx.Client, experiment_id: str) -> None:
    # MLflow's latest metric is the greatest (step, timestamp, value): within a batch
    # and against the value already stored, whatever the order of writing.
    tied = [{"key": "loss", "value": v, "timestamp": 5, "step": 2} for v in (0.5, 0.9, 0.1)]
    run_id, answer = _log_batch(api, experiment_id, metrics=tied)
    assert answer.status_code == 200, answer.text
    data = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"][0]["value"] == 0.9
    for value in (0.7, 1.5, 1.2):
        later = {"run_id": run_id, "metrics": [{**tied[0], "value": value}]}
        assert api.post("/runs/log-batch", content=json.dumps(later)).status_code == 200
    data = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"][0]["value"] == 1.5


def _metric(key: str = "loss", timestamp: int = 0, step: int = 0) -> dict[str, Any]:
    return {"key": key, "value": 1.0, "timestamp": timestamp, "step": step}


#: Batches MLflow 3.17 refuses with 400 beyond the ones the property test draws.
MLFLOW_REFUSES = {
    "step beyond int64": {"metrics": [_metric(step=2**63)]},
    "negative timestamp": {"metrics": [_metric(timestamp=-3)]},
    "key with a trailing slash": {"metrics": [_metric("ab/")]},
    "key with a double slash": {"metrics": [_metric("a//b")]},
    "1,001 entities in all": {
        "metrics": [_metric(step=i) for i in range(950)],
        "params": [{"key": f"p{i}", "value": "1"} for i in range(51)],
    },
    "body over 1 MB": {
        "tags": [{"key": f"big{i}", "value": "x" * 7999} for i in range(100)],
        "params": [{"key": f"p{i}", "value": "y" * 5000} for i in range(40)],
    },
}


@pytest.mark.parametrize("body", MLFLOW_REFUSES.values(), ids=MLFLOW_REFUSES.keys())
def test_batches_mlflow_refuses_get_400_and_change_nothing(
    api: httpx.Client, experiment_id: str, body: dict[str, Any]
) -> None:
    run_id, answer = _log_batch(api, experiment_id, **body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    data = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert not data.get("metrics") and not data.get("params")


def test_keys_with_colons_are_stored_as_mlflow_stores_them(
    api: httpx.Client, experiment_id: str
) -> None:
    run_id, answer = _log_batch(
        api, experiment_id, metrics=[_metric("val:loss")], params=[{"key": "a:b", "value": "1"}]
    )
    assert answer.status_code == 200, answer.text
    data = api.get("/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert [m["key"] for m in data["metrics"]] == ["val:loss"]
