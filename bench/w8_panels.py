"""W8: the inline panels over a big experiment (nbtrack only; MLflow has no inline panels).

- the first page of ``nbt.show_runs`` over ``size`` runs (20 params, 5 metrics,
  3 tags each; target ≤ 300 ms at 100,000 runs), a re-sort (a header click)
  and a re-filter (the filter box), each ≤ 300 ms; the slowest of those on
  their own: a param column's header clicked, filters typed while it sorts;
- ``nbt.show_metrics`` of 10 runs × 10,000 points (≤ 500 ms), downsampled
  for display and rendered to SVG;
- the store's own ``search_runs`` page for the same three queries, so a slow
  panel can be told apart from a slow query.

Each figure is the median of ``repeat`` timed calls after one untimed warm-up
(which imports anywidget, altair and vl-convert: that first call is reported
as ``*_first_ms``). Only the standard library is imported at module level.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench._api import Api
from bench._stores import FILTER, StoreInfo, build_runs_store

__all__ = ["w8_panels"]

#: Header clicks timed in turn (each re-queries the store).
SORTS = ("metrics.m0", "params.p3", "metrics.m4", "start_time", "run_name")
#: Filters typed in turn; FILTER is W4's (~10% of the runs match).
FILTERS = (FILTER, "params.p0 = 'v2'", "metrics.m1 > 0.9", "tags.group = 'g3' and metrics.m2 < 0.2")
HISTORY_RUNS = 10
HISTORY_POINTS = 10_000


def _median_ms(calls: list[Callable[[], Any]]) -> tuple[float, list[float]]:
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def _history_runs(api: Api, experiment_id: str) -> list[str]:
    client = api.client()
    ids = []
    for r in range(HISTORY_RUNS):
        run_id = client.create_run(experiment_id, run_name=f"curve-{r}").info.run_id
        points = [
            api.metric("loss", math.exp(-s / 2000) + 0.01 * r + 0.02 * math.sin(s / 7), 0, s)
            for s in range(HISTORY_POINTS)
        ]
        client.log_batch(run_id, metrics=points)
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids


def w8_panels(ctx: Any) -> dict[str, Any]:
    """Time the run table and the metric charts over ``ctx.size`` runs."""
    from bench.workloads import CheckFailed

    api = Api(ctx.lib)
    if ctx.lib != "nbtrack":
        return {"version": api.version, "first_page_ms": None}
    n = ctx.size
    info = StoreInfo.load(ctx.store)
    if info is None or info.n_runs != n:
        info = build_runs_store(api, ctx.store, n)
    else:
        api.use_store(ctx.store)
    import nbtrack as nbt

    client = api.client()
    name = client.get_experiment(info.experiment_id).name
    ids = [info.experiment_id]

    start = time.perf_counter()
    table = nbt.show_runs(name, client=client)
    first_call_ms = (time.perf_counter() - start) * 1000
    first_page_ms, first_runs = _median_ms(
        [lambda: nbt.show_runs(name, client=client)] * ctx.repeat
    )
    if len(table.query.runs) != 50 or table.html.count("<tr") != 51:
        raise CheckFailed("rows on the first page", 50, len(table.query.runs))

    sorts = [SORTS[i % len(SORTS)] for i in range(ctx.repeat)]
    sort_ms, sort_runs = _median_ms(
        [lambda key=key: table.dispatch({"action": "sort", "key": key}) for key in sorts]
    )
    if table.query.order_by != [f"attributes.{sorts[-1]} ASC"] and "." not in sorts[-1]:
        raise CheckFailed("order after the last header click", sorts[-1], table.query.order_by)

    # Filters are typed into a fresh table (newest first), as a user first sees it.
    table = nbt.show_runs(name, client=client)
    filters = [FILTERS[i % len(FILTERS)] for i in range(ctx.repeat)]
    filter_ms, filter_runs = _median_ms(
        [lambda f=f: setattr(table, "filter_string", f) for f in filters]
    )
    if table.query.filter_string != filters[-1] or not table.query.runs:
        raise CheckFailed("filter applied", filters[-1], table.query.filter_string)

    # The slowest cases on their own: a param column's header clicked (each
    # click flips the direction) and filters typed while that sort holds.
    table = nbt.show_runs(name, client=client)
    sort_param_ms, sort_param_runs = _median_ms(
        [lambda: table.dispatch({"action": "sort", "key": "params.p3"})] * ctx.repeat
    )
    if table.query.order_by[0].split()[0] != "params.p3":
        raise CheckFailed("order after a param header click", "params.p3", table.query.order_by)
    filter_sorted_ms, filter_sorted_runs = _median_ms(
        [lambda f=f: setattr(table, "filter_string", f) for f in filters]
    )
    if table.query.filter_string != filters[-1] or not table.query.runs:
        raise CheckFailed("filter applied while sorted", filters[-1], table.query.filter_string)

    # The store alone, for the panel's queries (one page of 50 + 1 to know if more follow).
    query_ms = {
        "store_first_page_ms": lambda: client.search_runs(ids, max_results=50),
        "store_sort_ms": lambda: client.search_runs(
            ids, max_results=50, order_by=["metrics.m0 ASC"]
        ),
        "store_sort_param_ms": lambda: client.search_runs(
            ids, max_results=50, order_by=["params.p3 ASC"]
        ),
        "store_filter_ms": lambda: client.search_runs(ids, FILTER, max_results=50),
        "store_filter_sorted_ms": lambda: client.search_runs(
            ids, FILTER, max_results=50, order_by=["metrics.m0 ASC"]
        ),
    }
    store_figures = {key: _median_ms([call] * ctx.repeat)[0] for key, call in query_ms.items()}

    experiment_id = api.create_experiment("bench-w8-histories", ctx.store)
    curves = _history_runs(api, experiment_id)
    start = time.perf_counter()
    chart = nbt.show_metrics(curves, "loss", client=client)
    metrics_first_ms = (time.perf_counter() - start) * 1000
    metrics_ms, metrics_runs = _median_ms(
        [lambda: nbt.show_metrics(curves, "loss", client=client)] * ctx.repeat
    )
    rows = chart.data.rows("loss")
    last_steps = {row["run"]: row["step"] for row in rows}
    if set(last_steps.values()) != {HISTORY_POINTS - 1} or chart.html.count("<svg") != 1:
        raise CheckFailed("last point of every curve drawn", HISTORY_POINTS - 1, last_steps)
    history_ms, _ = _median_ms(
        [lambda: [client.get_metric_history(r, "loss") for r in curves]] * ctx.repeat
    )
    return {
        "version": api.version,
        "store_built_by": info.built_by,
        "store_build_s": info.build_s,
        "first_page_ms": first_page_ms,
        "first_page_ms_runs": first_runs,
        "first_call_ms": first_call_ms,
        "sort_ms": sort_ms,
        "sort_ms_runs": sort_runs,
        "filter_ms": filter_ms,
        "filter_ms_runs": filter_runs,
        "sort_param_ms": sort_param_ms,
        "sort_param_ms_runs": sort_param_runs,
        "filter_sorted_ms": filter_sorted_ms,
        "filter_sorted_ms_runs": filter_sorted_runs,
        **store_figures,
        "show_metrics_ms": metrics_ms,
        "show_metrics_ms_runs": metrics_runs,
        "show_metrics_first_ms": metrics_first_ms,
        "histories_read_ms": history_ms,
        "points_drawn": len(rows),
    }
