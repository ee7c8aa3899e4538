"""Runs read back through ``Client`` on every store (SQLite, PostgreSQL, REST).

What ``get_run`` and ``search_runs`` give for each run: params and tags whatever
characters they hold, latest metric values with the timestamp and step of the
value (MLflow's ``Run`` carries both), NaN kept, and the same data for a page of
many runs as for one run read alone.
"""

from __future__ import annotations

import math

from nbtrack.entities import Metric, Param, RunTag


def test_latest_metrics_know_their_timestamp_and_step(client) -> None:  # type: ignore[no-untyped-def]
    exp = client.create_experiment("times")
    run_id = client.create_run(exp).info.run_id
    client.log_batch(
        run_id,
        metrics=[
            Metric("loss", 0.5, 1_000, 1),
            Metric("loss", 0.25, 2_000, 7),
            Metric("loss", 0.75, 3_000, 3),  # an older step, logged later
            Metric("acc", float("nan"), 1_500, 2),
        ],
    )
    for run in (client.get_run(run_id), *client.search_runs([exp])):
        assert run.data.metrics["loss"] == 0.25
        assert math.isnan(run.data.metrics["acc"])
        assert run.data.metric_times == {"loss": (2_000, 7), "acc": (1_500, 2)}


def test_a_page_of_many_runs_holds_what_each_run_holds(client) -> None:  # type: ignore[no-untyped-def]
    exp = client.create_experiment("page")
    odd = ["a\x1fb", "quote \" and ' and \\", "", "température 学習", "x" * 5000, '{"j": 1}']
    for i in range(12):
        run_id = client.create_run(exp).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(f"m{j}", i + j / 10, 100 + i, j) for j in range(i % 3)],
            params=[Param("value", odd[i % len(odd)]), Param(f"only{i}", str(i))],
            tags=[RunTag("group", f"g{i % 4}"), RunTag("text", odd[(i + 1) % len(odd)])],
        )
    page = client.search_runs([exp], max_results=100)
    assert len(page) == 12
    for run in page:
        alone = client.get_run(run.info.run_id)
        assert run.data.params == alone.data.params
        assert run.data.metrics == alone.data.metrics
        assert run.data.metric_times == alone.data.metric_times
        assert {k: v for k, v in run.data.tags.items() if k in ("group", "text")} == {
            k: v for k, v in alone.data.tags.items() if k in ("group", "text")
        }
    values = sorted(run.data.params["value"] for run in page)
    assert values == sorted(odd[i % len(odd)] for i in range(12))
