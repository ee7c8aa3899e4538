"""search_runs through the Client and the fluent API: paging, views, frames."""

from __future__ import annotations

import pytest

import nbtrack as nbt
from nbtrack.entities import Metric, Param


def _make_runs(client: nbt.Client, n: int) -> list[str]:
    ids = []
    for i in range(n):
        run_id = client.create_run("0", run_name=f"run-{i:02d}", start_time=1_000 + i).info.run_id
        client.log_batch(
            run_id, metrics=[Metric("score", float(i % 7), 0, 0)], params=[Param("i", i)]
        )
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids


def test_page_tokens_walk_every_run_once_in_order(client: nbt.Client) -> None:
    _make_runs(client, 25)
    seen, token, pages = [], None, 0
    while True:
        page = client.search_runs(
            ["0"], order_by=["metrics.score DESC"], max_results=10, page_token=token
        )
        seen.extend(page)
        pages += 1
        token = page.token
        if token is None:
            break
    assert pages == 3
    assert len({r.info.run_id for r in seen}) == 25
    scores = [r.data.metrics["score"] for r in seen]
    assert scores == sorted(scores, reverse=True)


def test_view_types_select_by_lifecycle(client: nbt.Client) -> None:
    ids = _make_runs(client, 3)
    client.delete_run(ids[0])
    active = {r.info.run_id for r in client.search_runs(["0"])}
    deleted = {r.info.run_id for r in client.search_runs(["0"], run_view_type="DELETED_ONLY")}
    everything = {r.info.run_id for r in client.search_runs(["0"], run_view_type="ALL")}
    assert active == set(ids[1:]) and deleted == {ids[0]} and everything == set(ids)
    client.restore_run(ids[0])
    assert len(client.search_runs(["0"])) == 3


def test_frame_orders_missing_values_last_and_caps_results(tracking_uri: str) -> None:
    client = nbt.Client()
    _make_runs(client, 5)
    with nbt.start_run(run_name="no-score"):
        nbt.log_param("i", "x")
    df = nbt.search_runs(order_by=["metrics.score ASC"])
    assert df["run_name"].iloc[-1] == "no-score"
    assert list(df["metrics.score"].iloc[:5]) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(nbt.search_runs(max_results=2)) == 2
    assert str(df["start_time"].dtype).startswith("datetime64")


def test_empty_result_still_has_the_base_columns(tracking_uri: str) -> None:
    df = nbt.search_runs(filter_string="metrics.nothing > 1")
    assert len(df) == 0
    assert {"run_id", "experiment_id", "status", "start_time"} <= set(df.columns)


def test_filter_error_points_at_the_problem(tracking_uri: str) -> None:
    with pytest.raises(nbt.InvalidFilter) as err:
        nbt.search_runs(filter_string="metrics.rmse < 0.8 and params.alpha = 0.5")
    assert err.value.position == len("metrics.rmse < 0.8 and params.alpha = ")
    assert "quote" in str(err.value)


def test_search_experiments_with_mlflow_filters(tracking_uri: str) -> None:
    nbt.set_experiment("wine-a")
    nbt.set_experiment_tag("team", "a")
    nbt.set_experiment("wine-b")
    nbt.set_experiment_tags({"team": "b", "stage": "dev"})
    nbt.set_experiment("iris")
    names = {e.name for e in nbt.search_experiments(filter_string="name LIKE 'wine%'")}
    assert names == {"wine-a", "wine-b"}
    (b,) = nbt.search_experiments(filter_string="tags.team = 'b'")
    assert b.name == "wine-b" and b.tags == {"team": "b", "stage": "dev"}
    ordered = [e.name for e in nbt.search_experiments(order_by=["name ASC"])]
    assert ordered == sorted(ordered)
    with pytest.raises(nbt.InvalidFilter):
        nbt.search_experiments(filter_string="name LIKE")
