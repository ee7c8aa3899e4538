"""``GET /api/2.0/mlflow/metrics/get-history-bulk-interval``: sampled histories for charts.

MLflow's UI draws a metric of many runs at once with this route: for each
run it wants at most ``max_results`` points of one metric between
``start_step`` and ``end_step``, spread over the whole range and keeping its
ends. The sampling is MLflow 3.17's (``SqlAlchemyStore.
_sample_metric_history_single_run``), so both servers answer the same points:

- a run's points in the range are ordered by (step, timestamp, value);
- they are cut into ``max_results`` consecutive buckets the way SQL's
  ``NTILE`` cuts them (the first ``n % max_results`` buckets one point
  larger), and each bucket's first point is kept: every point when there are
  no more than ``max_results``;
- the run's last point is kept too, replacing the last one sampled when the
  answer is already full.

Each run is sampled on its own; the answer lists run after run, in the order
asked, each point with its ``run_id``. A run without the metric (or unknown)
contributes nothing, as on MLflow's server.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.errors import InvalidInput
from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import INT, STR, read_fields
from nbtrack.server.tracking.errors import json_response

__all__ = ["MAX_RESULTS_PER_RUN", "MAX_RUNS", "ROUTES", "sample"]

PATH = "/api/2.0/mlflow/metrics/get-history-bulk-interval"
#: MLflow's limits: run ids in one request, and points per run.
MAX_RUNS = 100
MAX_RESULTS_PER_RUN = 2500

_QUERY = {
    "run_ids": [STR],
    "metric_key": STR,
    "start_step": INT,
    "end_step": INT,
    "max_results": INT,
}

Point = tuple[int, int, float]  # (step, timestamp, value), as Client.get_metric_points gives


def _order(point: Point) -> tuple[int, int, float, bool]:
    # MLflow orders by (step, timestamp, value, is_nan) and stores NaN as value 0.
    step, ts, value = point
    nan = math.isnan(value)
    return step, ts, 0.0 if nan else value, nan


def sample(points: list[Point], max_results: int) -> list[Point]:
    """Return at most ``max_results`` of ``points`` as MLflow samples them (see the module)."""
    ordered = sorted(points, key=_order)
    n = len(ordered)
    if n <= max_results:
        return ordered
    size, larger = divmod(n, max_results)
    # NTILE: buckets 0..larger-1 hold size+1 points, the rest size; keep each one's first.
    firsts = [b * size + min(b, larger) for b in range(max_results)]
    kept = [ordered[i] for i in firsts]
    if firsts[-1] != n - 1:
        kept[-1] = ordered[-1]  # the answer is full: the run's last point replaces its last
    return kept


def _checked(f: dict[str, Any]) -> tuple[list[str], int, int | None, int | None]:
    run_ids = f.get("run_ids") or []
    if not run_ids:
        raise InvalidInput(
            "Missing value for required parameter 'run_ids'. "
            "See the API docs for more information about request parameters."
        )
    if len(run_ids) > MAX_RUNS:
        raise InvalidInput(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    max_results = f.get("max_results", MAX_RESULTS_PER_RUN)
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    start, end = f.get("start_step"), f.get("end_step")
    if (start is None) != (end is None):
        raise InvalidInput(
            "If either start step or end step are specified, both must be specified."
        )
    if start is not None and end is not None and start > end:
        raise InvalidInput(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )
    return run_ids, max_results, start, end


def _history(
    st: ServerState, run_ids: list[str], key: str, limit: int, start: int | None, end: int | None
) -> list[dict[str, Any]]:
    from nbtrack.errors import NotFoundError

    out: list[dict[str, Any]] = []
    for run_id in run_ids:
        try:
            points = st.client.store.get_metric_points(run_id, key)
        except NotFoundError:
            continue  # MLflow's store answers nothing for an unknown run
        if start is not None and end is not None:
            points = [p for p in points if start <= p[0] <= end]
        out.extend(
            {"key": key, "value": v, "timestamp": ts, "step": step, "run_id": run_id}
            for step, ts, v in sample(points, limit)
        )
    return out


async def get_history_bulk_interval(request: Request) -> Response:
    """One metric of up to 100 runs, each sampled to ``max_results`` points; ``{"metrics"}``."""
    f = await read_fields(request, _QUERY, ("metric_key",))
    run_ids, limit, start, end = _checked(f)
    metrics = await call(_history, state(request), run_ids, f["metric_key"], limit, start, end)
    return json_response({"metrics": metrics} if metrics else {})


ROUTES = [route(PATH, get_history_bulk_interval, "GET")]
