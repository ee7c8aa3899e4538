"""Runs and histories as ``nbtrack server`` answers them, read over real HTTP with httpx.

A run's latest metrics carry the timestamp and step of their value, as
MLflow's server sends them, in ``runs/get`` and ``runs/search`` alike; large
answers (searches, histories) come out as the same JSON whether they hold
only finite values or NaN and infinities (written as MLflow writes them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

M = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def http(tracking_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tracking_server, timeout=30) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _new_run(http: httpx.Client, experiment: str) -> tuple[str, str]:
    exp_id = ok(http.post(f"{M}/experiments/create", json={"name": experiment}))["experiment_id"]
    run = ok(http.post(f"{M}/runs/create", json={"experiment_id": exp_id, "start_time": 5}))
    return exp_id, run["run"]["info"]["run_id"]


def _metrics(run: dict[str, Any]) -> dict[str, tuple[Any, int, int]]:
    return {
        m["key"]: (m["value"], int(m["timestamp"]), int(m["step"])) for m in run["data"]["metrics"]
    }


def test_latest_metrics_carry_their_timestamp_and_step(http: httpx.Client) -> None:
    exp_id, run_id = _new_run(http, "metric-times")
    points = [
        {"key": "loss", "value": 0.5, "timestamp": 1_000, "step": 1},
        {"key": "loss", "value": 0.25, "timestamp": 2_000, "step": 7},
        {"key": "loss", "value": 0.75, "timestamp": 3_000, "step": 3},  # an older step
        {"key": "acc", "value": 0.9, "timestamp": 1_500, "step": 0},
    ]
    ok(http.post(f"{M}/runs/log-batch", json={"run_id": run_id, "metrics": points}))
    ok(
        http.post(
            f"{M}/runs/log-metric",
            json={"run_id": run_id, "key": "lr", "value": 0.1, "timestamp": 4_321, "step": 12},
        )
    )
    expected = {"loss": (0.25, 2_000, 7), "acc": (0.9, 1_500, 0), "lr": (0.1, 4_321, 12)}

    got = ok(http.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]
    assert _metrics(got) == expected
    found = ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}))["runs"]
    assert [_metrics(r) for r in found] == [expected]
    filtered = ok(
        http.post(
            f"{M}/runs/search",
            json={"experiment_ids": [exp_id], "filter": "metrics.loss < 0.3"},
        )
    )["runs"]
    assert [r["info"]["run_id"] for r in filtered] == [run_id]
    assert _metrics(filtered[0]) == expected


def test_search_and_history_answers_hold_nan_and_infinities(http: httpx.Client) -> None:
    exp_id, run_id = _new_run(http, "non-finite")
    values = [1.5, "NaN", "Infinity", "-Infinity", -2.0]
    points = [
        {"key": "m", "value": v, "timestamp": 10 + i, "step": i} for i, v in enumerate(values)
    ]
    ok(http.post(f"{M}/runs/log-batch", json={"run_id": run_id, "metrics": points}))
    ok(
        http.post(
            f"{M}/runs/log-batch",
            json={"run_id": run_id, "metrics": [{"key": "x", "value": "NaN", "timestamp": 1}]},
        )
    )

    history = ok(http.get(f"{M}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}))
    assert [m["value"] for m in history["metrics"]] == values
    found = ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}))["runs"]
    assert _metrics(found[0]) == {"m": (-2.0, 14, 4), "x": ("NaN", 1, 0)}

    # The same routes with only finite values: plain JSON numbers, nothing lost.
    exp2, finite = _new_run(http, "finite")
    exact = [0.1 + 0.2, 1e-300, 2.0**60, -(10.0**300), 1 / 3]
    points = [{"key": "m", "value": v, "timestamp": 1, "step": i} for i, v in enumerate(exact)]
    ok(http.post(f"{M}/runs/log-batch", json={"run_id": finite, "metrics": points}))
    history = ok(http.get(f"{M}/metrics/get-history", params={"run_id": finite, "metric_key": "m"}))
    assert [m["value"] for m in history["metrics"]] == exact
    (run,) = ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp2]}))["runs"]
    assert _metrics(run) == {"m": (1 / 3, 1, 4)}
    assert all(math.isfinite(m["value"]) for m in history["metrics"])


def test_search_answers_text_beyond_ascii_as_sent(http: httpx.Client) -> None:
    exp_id, run_id = _new_run(http, "unicode")
    tags = [{"key": "note", "value": "température 20 °C — 学習率"}]
    params = [{"key": "emoji", "value": "🙂"}]
    ok(http.post(f"{M}/runs/log-batch", json={"run_id": run_id, "tags": tags, "params": params}))
    (run,) = ok(http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}))["runs"]
    assert {t["key"]: t["value"] for t in run["data"]["tags"]}["note"] == tags[0]["value"]
    assert run["data"]["params"] == params
