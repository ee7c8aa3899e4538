"""Comparison: params that differ, the best metric value, charts, and what compare accepts."""

from __future__ import annotations

import nbtrack
from nbtrack.widgets.comparison import Comparison, compare, lower_is_better, run_ids_of


def test_differing_params_and_best_metrics(seeded) -> None:
    ids = seeded.run_ids[:4]
    comparison = Comparison.load(seeded.client, ids)
    assert comparison.names == ["run-00", "run-01", "run-02", "run-03"]
    # alpha, model and depth all vary over runs 0-3.
    assert comparison.differing_params() == ["alpha", "depth", "model"]
    assert comparison.best("rmse") == 3  # rmse = 1 / (i + 1): lower wins
    assert comparison.best("loss") == 0  # loss grows with i: lower wins
    same = Comparison.load(seeded.client, [seeded.run_ids[0], seeded.run_ids[6]])
    assert same.differing_params() == ["alpha"]  # model lr for both, depth 0 for both


def test_higher_is_better_unless_the_name_or_the_caller_says_otherwise(
    client: nbtrack.Client,
) -> None:
    from nbtrack.entities import Metric

    assert lower_is_better("val_loss") and lower_is_better("RMSE") and not lower_is_better("acc")
    experiment_id = client.create_experiment("acc")
    ids = []
    for value in (0.7, 0.9, 0.8):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(run_id, metrics=[Metric("acc", value, 0, 0)])
        ids.append(run_id)
    assert Comparison.load(client, ids).best("acc") == 1
    assert Comparison.load(client, ids, lower_better=["acc"]).best("acc") == 0
    assert "acc ↓" in compare(ids, lower_is_better=["acc"], client=client).html


def test_compare_renders_tables_and_charts(seeded) -> None:
    view = compare(seeded.run_ids[:3], client=seeded.client)
    html = view.html
    assert "Compare 3 runs" in html
    assert html.count('class="jp-nbtrack-diff"') >= 3 * 4  # alpha, depth, model rows
    assert "jp-nbtrack-best" in html
    # Parallel coordinates plus one scatter per differing param (at most three).
    assert html.count("<svg") == 4
    data, _ = view._repr_mimebundle_()
    assert data["text/html"].count("<svg") == 4


def test_parallel_rows_scale_every_axis_to_unit_range(seeded) -> None:
    comparison = Comparison.load(seeded.client, seeded.run_ids[:3])
    rows, axes = comparison.parallel_rows()
    assert axes[0] == "params.alpha" and "metrics.rmse" in axes
    assert all(0.0 <= row["value"] <= 1.0 for row in rows)
    model = {row["run"]: row["value"] for row in rows if row["axis"] == "params.model"}
    assert model == {"run-00": 0.0, "run-01": 1.0, "run-02": 0.0}  # lr, rf, lr


def test_one_run_compares_without_charts(seeded) -> None:
    view = compare(seeded.run_ids[0], client=seeded.client)
    assert "<svg" not in view.html and "Compare 1 runs" in view.html


def test_run_ids_come_from_ids_runs_tables_and_frames(seeded) -> None:
    client = seeded.client
    run = client.get_run(seeded.run_ids[0])
    assert run_ids_of(seeded.run_ids[0]) == [seeded.run_ids[0]]
    assert run_ids_of([run]) == [seeded.run_ids[0]]
    frame = nbtrack.search_runs([seeded.experiment_id])
    assert sorted(run_ids_of(frame)) == sorted(seeded.run_ids)
    table = nbtrack.show_runs("wine", client=client)
    table.selected = seeded.run_ids[:2]
    assert run_ids_of(table) == seeded.run_ids[:2]


def test_charts_render_once_per_comparison(seeded) -> None:
    comparison = Comparison.load(seeded.client, seeded.run_ids[:2])
    assert comparison.charts() is comparison.charts()
