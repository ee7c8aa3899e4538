"""Logging to a run (metric, param, tag, batch) and reading a metric's history back.

Writes go straight to the store (``Store.log_batch``), never through the
client's write-behind buffer: when the server answers, the data is durable.
As on MLflow's server, a run that has ended (FINISHED, FAILED, KILLED) still
takes data and only a deleted one refuses it: the guard against logging to an
ended run is ``Client``'s, for nbtrack's own API. Param and tag values over
MLflow's limits are cut as MLflow cuts them (``value_limits``).
A request carrying ``Nbtrack-Request-Id`` is stored at most once however often
it is retried.
"""

from __future__ import annotations

import posixpath
import time
from operator import itemgetter, methodcaller
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.entities import Metric
from nbtrack.errors import InvalidInput
from nbtrack.server.tracking import value_limits
from nbtrack.server.tracking._state import call, route, state
from nbtrack.server.tracking.bodies import (
    ANY,
    FLOAT,
    INT,
    REQUIRED,
    STR,
    parse,
    read_fields,
    request_id,
)
from nbtrack.server.tracking.entities_json import dumps_if_finite
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.experiments import TAG
from nbtrack.server.tracking.runs import run_id_of
from nbtrack.store.paging import decode_page_token, split_page

__all__ = ["MAX_METRICS", "MAX_PARAMS", "MAX_TAGS", "METRIC", "ROUTES"]

P = "/api/2.0/mlflow"
#: MLflow's limits on one log-batch request: per kind, in all, and its body's size.
MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100
MAX_ENTITIES = 1000
MAX_BATCH_BYTES = 1_000_000
_INT64 = 2**63

METRIC: dict[str, Any] = {
    "key": STR,
    "value": FLOAT,
    "timestamp": INT,
    "step": INT,
    "dataset_name": STR,
    "dataset_digest": STR,
    "model_id": STR,
    "run_id": STR,
    REQUIRED: ("key", "value", "timestamp"),
}
_RUN = {"run_id": STR, "run_uuid": STR}
_LOG_METRIC = {
    **_RUN,
    "key": STR,
    "value": FLOAT,
    "timestamp": INT,
    "step": INT,
    "model_id": STR,
    "dataset_name": STR,
    "dataset_digest": STR,
}
_LOG_PARAM = {**_RUN, "key": STR, "value": STR}
_LOG_BATCH = {
    "run_id": STR,
    "metrics": [ANY],  # checked by _metrics: the hot path
    "params": [{"key": STR, "value": STR, REQUIRED: ("key",)}],
    "tags": [TAG],
}
_HISTORY = {**_RUN, "metric_key": STR, "page_token": STR, "max_results": INT}


def _now() -> int:
    return int(time.time() * 1000)


async def log_metric(request: Request) -> Response:
    """Log one metric point."""
    f = await read_fields(request, _LOG_METRIC, ("key", "value"))
    rid = request_id(request)
    metric = Metric(f["key"], f["value"], f.get("timestamp", _now()), f.get("step", 0))
    _check_timestamp(metric.timestamp, "timestamp")
    _check_key_paths("metrics", [metric.key])
    store = state(request).client.store
    await call(store.log_batch, run_id_of(f), metrics=[metric], request_id=rid)
    return json_response({})


async def log_param(request: Request) -> Response:
    """Log one param (params are immutable: another value is an error)."""
    f = await read_fields(request, _LOG_PARAM, ("key",))
    rid = request_id(request)
    param = value_limits.param(f["key"], f.get("value", ""))
    store = state(request).client.store
    await call(store.log_batch, run_id_of(f), params=[param], request_id=rid)
    return json_response({})


async def set_tag(request: Request) -> Response:
    """Set one run tag."""
    f = await read_fields(request, _LOG_PARAM, ("key",))
    rid = request_id(request)
    tag = value_limits.tag(f["key"], f.get("value", ""))
    store = state(request).client.store
    await call(store.log_batch, run_id_of(f), tags=[tag], request_id=rid)
    return json_response({})


_KEY, _VALUE, _TIMESTAMP = itemgetter("key"), itemgetter("value"), itemgetter("timestamp")
_STEP, _HAS_STEP = methodcaller("get", "step", 0), methodcaller("__contains__", "step")


def _metrics(raw: list[Any]) -> list[Metric]:
    """Return log-batch's metrics as entities, checked against :data:`METRIC`.

    Nearly every batch is plain (numbers as numbers, no optional fields): those
    are checked a column at a time, in C loops (``map``, ``set``, ``min``), which
    takes a third less than a loop over the points; anything else goes through the
    schema check, which names the offending field.
    """
    try:
        keys, values = list(map(_KEY, raw)), list(map(_VALUE, raw))
        stamps, steps = list(map(_TIMESTAMP, raw)), list(map(_STEP, raw))
        # Fields beyond key, value, timestamp and step (or an item that is no object).
        others = sum(map(len, raw)) - 3 * len(raw) - sum(map(_HAS_STEP, raw))
    except (KeyError, TypeError, AttributeError):
        others = -1
    if not raw:
        return []
    value_types = set(map(type, values)) if others == 0 else set()
    if (
        others == 0
        and set(map(type, keys)) == {str}
        and all(keys)
        and value_types <= {float, int}
        and set(map(type, stamps)) == {int}
        and set(map(type, steps)) == {int}
        and min(stamps) >= 0
        and max(stamps) < _INT64
        and min(steps) >= -_INT64
        and max(steps) < _INT64
    ):
        if int in value_types:
            values = list(map(float, values))
        return list(map(Metric, keys, values, stamps, steps))
    checked = parse({"metrics": raw}, {"metrics": [METRIC]})["metrics"]
    for i, m in enumerate(checked):
        _check_timestamp(m["timestamp"], f"metrics[{i}].timestamp")
    return [Metric(m["key"], m["value"], m["timestamp"], m.get("step", 0)) for m in checked]


def _check_timestamp(ts: int, field: str) -> None:
    if ts < 0:
        raise InvalidInput(
            f"Invalid value {ts} for parameter '{field}' supplied: a timestamp is "
            "milliseconds since the epoch, not negative"
        )


def _check_key_paths(kind: str, keys: list[str]) -> None:
    # MLflow's rule: a key may name a file, so it must not resolve to another name.
    for i, key in enumerate(keys):
        if "/" in key and (key.startswith("/") or posixpath.normpath(key) != key):
            raise InvalidInput(
                f"Invalid value {key!r} for parameter '{kind}[{i}].key' supplied: names may be "
                "treated as files in certain cases, and must not resolve to other names when "
                "treated as such (no leading, trailing or doubled '/', no '.' or '..' parts)"
            )


def _check_limits(f: dict[str, Any]) -> None:
    total = sum(len(f.get(name, ())) for name in ("metrics", "params", "tags"))
    if total > MAX_ENTITIES:
        raise InvalidInput(
            f"A batch logging request can contain at most {MAX_ENTITIES} metrics, params and "
            f"tags in all. Got {total}. Please split up the batch across multiple requests "
            "and try again."
        )
    for name, limit in (("metrics", MAX_METRICS), ("params", MAX_PARAMS), ("tags", MAX_TAGS)):
        n = len(f.get(name, ()))
        if n > limit:
            raise InvalidInput(
                f"A batch logging request can contain at most {limit} {name}. "
                f"Got {n} {name} in parameter '{name}'. Please split up {name} across "
                "multiple requests and try again."
            )


async def log_batch(request: Request) -> Response:
    """Log metrics, params and tags of one run atomically (MLflow's limits apply)."""
    f = await read_fields(request, _LOG_BATCH, ("run_id",), MAX_BATCH_BYTES)
    _check_limits(f)
    rid = request_id(request)
    metrics = _metrics(f.get("metrics", []))
    params = value_limits.params(f.get("params", ()))
    tags = value_limits.tags(f.get("tags", ()))
    _check_key_paths("metrics", [m.key for m in metrics])
    _check_key_paths("params", [p.key for p in params])
    _check_key_paths("tags", [t.key for t in tags])
    store = state(request).client.store
    await call(store.log_batch, f["run_id"], metrics, params, tags, request_id=rid)
    return json_response({})


async def get_history(request: Request) -> Response:
    """Every point of one metric, by step then time; paged when ``max_results`` is given."""
    f = await read_fields(request, _HISTORY, ("metric_key",))
    client = state(request).client
    key = f["metric_key"]
    # Tuples, not Metric objects: histories run to 100,000 points.
    points = await call(client.get_metric_points, run_id_of(f), key)
    out: dict[str, Any] = {}
    if "max_results" in f or f.get("page_token"):
        offset = decode_page_token(f.get("page_token"))
        limit = f.get("max_results") or 25000
        if limit < 1:
            raise InvalidInput(f"Invalid value {limit} for parameter 'max_results' supplied")
        points, token = split_page(points[offset : offset + limit + 1], offset, limit)
        if token:
            out["next_page_token"] = token
    out["metrics"] = [{"key": key, "value": v, "timestamp": ts, "step": st} for st, ts, v in points]
    body = dumps_if_finite(out, [v for _, _, v in points])
    if body is None:
        return json_response(out)
    return Response(body, media_type="application/json")


ROUTES = [
    route(f"{P}/runs/log-metric", log_metric, "POST"),
    route(f"{P}/runs/log-parameter", log_param, "POST"),
    route(f"{P}/runs/set-tag", set_tag, "POST"),
    route(f"{P}/runs/log-batch", log_batch, "POST"),
    route(f"{P}/metrics/get-history", get_history, "GET"),
]
