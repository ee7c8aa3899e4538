"""Metric charts: downsampling keeps the last point and the extremes, smoothing, log scale."""

from __future__ import annotations

import math
import random

import nbtrack
from nbtrack.entities import Metric
from nbtrack.widgets._charts import downsample, downsample_indices, smooth
from nbtrack.widgets.metrics_chart import MetricHistories, show_metrics


def test_downsampling_keeps_first_last_min_and_max() -> None:
    rng = random.Random(7)
    values = [rng.gauss(0, 1) for _ in range(10_000)]
    values[4321] = 99.0  # a spike
    values[777] = -99.0
    kept = downsample_indices(values, 500)
    assert len(kept) <= 500
    assert kept == sorted(set(kept))
    assert kept[0] == 0 and kept[-1] == len(values) - 1
    assert 4321 in kept and 777 in kept
    points = [(float(i), v) for i, v in enumerate(values)]
    thinned = downsample(points, 500)
    assert thinned[-1] == points[-1]
    assert max(v for _, v in thinned) == 99.0 and min(v for _, v in thinned) == -99.0


def test_short_series_are_not_downsampled() -> None:
    assert downsample_indices([1.0, 2.0, 3.0], 500) == [0, 1, 2]


def test_downsampling_ignores_non_finite_values_for_extremes() -> None:
    values = [float("nan")] * 100 + [1.0, 5.0, 2.0] + [float("nan")] * 100
    kept = downsample_indices(values, 8)
    assert 101 in kept  # the 5.0


def test_smoothing_is_a_debiased_moving_average() -> None:
    assert smooth([1.0, 1.0, 1.0], 0.9) == [1.0, 1.0, 1.0]  # debiased: no pull towards 0
    out = smooth([0.0, 10.0], 0.5)
    assert out[0] == 0.0 and 0 < out[1] < 10
    assert smooth([1.0, 2.0], 0.0) == [1.0, 2.0]
    assert math.isnan(smooth([1.0, float("nan"), 3.0], 0.5)[1])


def _runs_with_history(client: nbtrack.Client, n_runs: int, points: int) -> list[str]:
    experiment_id = client.create_experiment("curves")
    ids = []
    for r in range(n_runs):
        run_id = client.create_run(experiment_id, run_name=f"curve-{r}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0 / (s + 1) + r, 0, s) for s in range(points)]
            + [Metric("score", float(s - 5), 0, s) for s in range(10)],
        )
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids


def test_histories_are_downsampled_per_run_without_losing_the_last_point(
    client: nbtrack.Client,
) -> None:
    ids = _runs_with_history(client, 3, 5_000)
    data = MetricHistories.load(client, ids, "loss")
    rows = data.rows("loss", max_points=400)
    for r in range(3):
        mine = [row for row in rows if row["run"] == f"curve-{r}"]
        assert len(mine) <= 400
        assert mine[-1]["step"] == 4_999
        assert mine[0]["value"] == 1.0 + r  # the maximum, at step 0
        assert min(row["value"] for row in mine) == 1.0 / 5_000 + r


def test_log_scale_leaves_out_non_positive_points_and_says_so(client: nbtrack.Client) -> None:
    ids = _runs_with_history(client, 1, 10)
    chart = show_metrics(ids, ["score"], client=client)
    assert "not drawable" not in chart.html
    chart.dispatch({"action": "toggle_log"})
    assert chart.log_scale is True
    assert chart.data.hidden["score"] == 6  # -5 … 0
    assert "6 point(s) not drawable" in chart.html
    assert "score (log)" in chart.html


def test_show_metrics_draws_an_svg_per_key_and_the_controls_change_it(
    client: nbtrack.Client,
) -> None:
    ids = _runs_with_history(client, 2, 50)
    chart = show_metrics(ids, client=client)  # every key
    assert chart.data.keys == ["loss", "score"]
    assert chart.html.count("<svg") == 2
    before = chart.svgs["loss"]
    chart.dispatch({"action": "smooth", "value": "0.9"})
    assert chart.smoothing == 0.9 and chart.svgs["loss"] != before
    assert '<option value="0.9" selected>' in chart.html
    data, _ = chart._repr_mimebundle_()
    assert data["text/html"].count("<svg") == 2
    assert "https://" not in data["text/html"].split("</style>", 1)[1]


def test_a_running_run_makes_the_chart_live_and_refresh_reads_new_points(
    client: nbtrack.Client,
) -> None:
    experiment_id = client.create_experiment("training")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0, 0, 0), Metric("loss", 0.5, 0, 1)])
    chart = show_metrics(run_id, "loss", client=client)
    assert chart.live is True
    client.log_batch(run_id, metrics=[Metric("loss", 0.25, 0, 2)])
    chart.dispatch({"action": "refresh"})
    assert chart.data.series[0].steps == [0, 1, 2]
    client.set_terminated(run_id)
    chart.dispatch({"action": "refresh"})
    assert chart.live is False


def test_refresh_renders_again_only_when_a_history_changed(client: nbtrack.Client) -> None:
    experiment_id = client.create_experiment("steady")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0, 0, 0), Metric("loss", 0.5, 0, 1)])
    chart = show_metrics(run_id, "loss", client=client)
    svgs = chart.svgs
    chart.dispatch({"action": "refresh"})
    assert chart.svgs is svgs
    client.log_batch(run_id, metrics=[Metric("loss", 0.2, 0, 2)])
    chart.dispatch({"action": "refresh"})
    assert chart.svgs is not svgs


def test_points_logged_without_steps_are_drawn_in_logging_order(client: nbtrack.Client) -> None:
    experiment_id = client.create_experiment("no-steps")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(
        run_id, metrics=[Metric("loss", v, 1000 + i, 0) for i, v in enumerate([3, 2, 1])]
    )
    data = MetricHistories.load(client, [run_id], "loss")
    assert [(r["step"], r["value"]) for r in data.rows("loss")] == [(0, 3.0), (1, 2.0), (2, 1.0)]
