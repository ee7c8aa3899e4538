"""How buffered metric points are cut into log-batch requests for an nbtrack server.

MLflow's server takes at most 1,000 metrics and 1 MB per ``runs/log-batch``;
nbtrack's server enforces the same limits, so a client that respects them
works against either. Kept apart from the REST store so the metric buffer can
use it without importing the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbtrack.store.base import MetricPoint

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_PER_BATCH",
    "MAX_TAGS_PER_BATCH",
    "encode_points",
    "split_points",
    "sub_request_id",
]

#: MLflow's log-batch limits: 1,000 metrics, 100 params, 100 tags and 1 MB per request.
MAX_METRICS_PER_BATCH = 1000
MAX_BATCH_BYTES = 1_000_000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
_POINT_OVERHEAD = 80  # JSON punctuation, field names, numbers of one metric


def split_points(points: Sequence[MetricPoint]) -> list[tuple[str, list[MetricPoint]]]:
    """Group points per run, in chunks within MLflow's log-batch limits, keeping their order."""
    by_run: dict[str, list[MetricPoint]] = {}
    for point in points:
        by_run.setdefault(point[0], []).append(point)
    chunks: list[tuple[str, list[MetricPoint]]] = []
    for run_id, run_points in by_run.items():
        chunk: list[MetricPoint] = []
        size = 0
        for point in run_points:
            cost = len(point[1].encode()) + _POINT_OVERHEAD
            if chunk and (len(chunk) >= MAX_METRICS_PER_BATCH or size + cost > MAX_BATCH_BYTES):
                chunks.append((run_id, chunk))
                chunk, size = [], 0
            chunk.append(point)
            size += cost
        chunks.append((run_id, chunk))
    return chunks


def encode_points(run_id: str, points: Sequence[MetricPoint]) -> bytes:
    """The ``runs/log-batch`` body of one run's points, written directly.

    Equal to ``json.dumps`` of MLflow's body, at half the cost: the flusher
    shares the GIL with the user's ``log_metric`` calls. Non-finite values are
    written as MLflow's strings.
    """
    import json

    keys: dict[str, str] = {}
    parts = []
    for _, key, value, timestamp, step in points:
        k = keys.get(key)
        if k is None:
            k = keys[key] = json.dumps(key)
        if value - value == 0.0:  # finite
            v = repr(value)
        elif value != value:
            v = '"NaN"'
        else:
            v = '"Infinity"' if value > 0 else '"-Infinity"'
        parts.append(f'{{"key":{k},"value":{v},"timestamp":{timestamp},"step":{step}}}')
    return f'{{"run_id":{json.dumps(run_id)},"metrics":[{",".join(parts)}]}}'.encode()


def sub_request_id(request_id: str, index: int, count: int) -> str:
    """The id of request ``index`` of ``count`` that one call sends: stable across retries."""
    return request_id if count == 1 else f"{request_id[:24]}{index:08x}"
