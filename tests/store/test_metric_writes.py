"""Batched writes on every backend: history without repeats, MLflow's latest metric, tags, params.

PostgreSQL takes a batch's points by ``COPY`` and falls back to an INSERT that
skips points already stored; these tests drive both paths through the public
client, as a user's batches would, on SQLite, the REST store and PostgreSQL.
"""

from __future__ import annotations

import math

import pytest

from nbtrack import Client
from nbtrack.entities import Metric, Param, RunTag


def _run(client: Client) -> str:
    return client.create_run(client.create_experiment("writes")).info.run_id


def test_latest_metric_is_the_greatest_step_timestamp_and_value(client: Client) -> None:
    run_id = _run(client)
    # Within one batch: of three points at the same (step, timestamp) the highest value.
    client.log_batch(run_id, [Metric("loss", v, 5, 2) for v in (0.5, 0.9, 0.1)])
    assert client.get_run(run_id).data.metrics["loss"] == 0.9
    # Against the stored value: a lower tie leaves it, a higher one replaces it.
    client.log_batch(run_id, [Metric("loss", 0.7, 5, 2)])
    assert client.get_run(run_id).data.metrics["loss"] == 0.9
    client.log_batch(run_id, [Metric("loss", 1.5, 5, 2)])
    assert client.get_run(run_id).data.metrics["loss"] == 1.5
    # A later timestamp at the same step wins whatever its value; an earlier step never.
    client.log_batch(run_id, [Metric("loss", -3.0, 6, 2), Metric("loss", 99.0, 9, 1)])
    assert client.get_run(run_id).data.metrics["loss"] == -3.0
    # NaN counts as 0 in the tie (MLflow stores it so): it beats -1, loses to 0.5.
    client.log_batch(run_id, [Metric("acc", -1.0, 1, 0), Metric("acc", math.nan, 1, 0)])
    assert math.isnan(client.get_run(run_id).data.metrics["acc"])
    client.log_batch(run_id, [Metric("acc", 0.5, 1, 0)])
    assert client.get_run(run_id).data.metrics["acc"] == 0.5
    history = client.get_metric_points(run_id, "loss")
    assert sorted(v for _, _, v in history) == [-3.0, 0.1, 0.5, 0.7, 0.9, 1.5, 99.0]


def test_a_point_sent_again_is_stored_once_beside_the_new_ones(client: Client) -> None:
    run_id = _run(client)
    first = [Metric("m", float(i), 1000 + i, i) for i in range(50)]
    client.log_batch(run_id, first)
    # A later batch repeating stored points (a retry without its request id) and
    # one repeating a point within itself: each point is kept once, new ones all.
    client.log_batch(
        run_id, [*first[10:20], *[Metric("m", 0.5, 2000 + i, 50 + i) for i in range(5)]]
    )
    client.log_batch(run_id, [Metric("m", 7.0, 3000, 60), Metric("m", 7.0, 3000, 60)])
    client.log_batch(run_id, [Metric("m", math.nan, 3001, 61), Metric("m", math.nan, 3001, 61)])
    points = client.get_metric_points(run_id, "m")
    assert [(step, ts) for step, ts, _ in points] == [
        *[(i, 1000 + i) for i in range(50)],
        *[(50 + i, 2000 + i) for i in range(5)],
        (60, 3000),
        (61, 3001),
    ]
    assert math.isnan(points[-1][2])
    assert math.isnan(client.get_run(run_id).data.metrics["m"])


def test_tags_and_params_of_one_batch_are_all_written(client: Client) -> None:
    run_id = _run(client)
    params = [Param(f"p{i}", str(i)) for i in range(30)]
    tags = [RunTag(f"t{i}", "a") for i in range(20)] + [RunTag("t3", "b")]
    client.log_batch(run_id, params=params, tags=tags)
    client.log_batch(run_id, params=[Param("p0", "0"), Param("q", "x")], tags=[RunTag("t4", "c")])
    data = client.get_run(run_id).data
    assert data.params == {**{f"p{i}": str(i) for i in range(30)}, "q": "x"}
    expected = {**{f"t{i}": "a" for i in range(20)}, "t3": "b", "t4": "c"}
    assert {k: v for k, v in data.tags.items() if k.startswith("t")} == expected


def test_a_changed_param_in_a_batch_writes_nothing_of_it(client: Client) -> None:
    from nbtrack.errors import ParamConflict

    run_id = _run(client)
    client.log_batch(run_id, params=[Param("lr", "0.1")])
    with pytest.raises(ParamConflict):
        client.log_batch(
            run_id,
            [Metric("m", 1.0, 1, 0)],
            [Param("lr", "0.2"), Param("new", "1")],
            [RunTag("t", "v")],
        )
    data = client.get_run(run_id).data
    assert data.params == {"lr": "0.1"} and "m" not in data.metrics and "t" not in data.tags
