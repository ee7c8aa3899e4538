"""``/api/2.0/nbtrack/*``: what nbtrack's REST store needs and MLflow's API lacks.

A run created with a chosen id (safe to retry), a run's last points and its
end in one transaction, points of many runs in one request, columnar metric
reads, the lineage log, counts, purges and registry searches with the
``prompts`` flag. Same JSON conventions and error bodies as MLflow's routes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack import _validation as check
from nbtrack.entities import CellExecution
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    REQUIRED,
    STR,
    parse,
    read_fields,
    request_id,
)
from nbtrack.server.tracking.entities_json import (
    model_version_json,
    registered_model_json,
    run_info_json,
    run_json,
)
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.metrics import METRIC
from nbtrack.server.tracking.runs import CREATE, RUN_STATUS, create_run

__all__ = ["MAX_POINTS", "ROUTES"]

P = "/api/2.0/nbtrack"
#: Most points one ``metrics/log-points`` request may carry.
MAX_POINTS = 10_000

_CREATE = {**CREATE, "run_id": STR}
_END = {"run_id": STR, "status": RUN_STATUS, "end_time": INT, "metrics": [METRIC]}
_GET_POINTS = {"run_id": STR, "metric_key": STR}
_EXECUTION = {
    "session_id": STR,
    "cell_id": STR,
    "execution_count": INT,
    "source": STR,
    "start_time": INT,
    "duration_ms": FLOAT,
    "ok": BOOL,
    REQUIRED: ("session_id", "start_time"),
}
_LINEAGE_GET = {"session_id": STR, "max_results": INT}
_PURGE = {"older_than": INT, "dry_run": BOOL}
_REGISTRY_SEARCH = {
    "filter": STR,
    "max_results": INT,
    "order_by": [STR],
    "page_token": STR,
    "prompts": BOOL,
}


def _create_or_get(st: ServerState, f: dict[str, Any], run_id: str | None) -> Any:
    if run_id is None:
        return create_run(st, f)
    exp_id = f.get("experiment_id") or "0"

    def existing() -> Any:
        try:
            run = st.client.get_run(run_id)
        except NotFoundError:
            return None
        if run.info.experiment_id != exp_id:
            raise AlreadyExistsError(
                f"Run {run_id} already exists in experiment {run.info.experiment_id}"
            )
        return run

    run = existing()
    if run is not None:
        return run  # a retried create answers the run it made
    from sqlalchemy.exc import IntegrityError

    try:
        return create_run(st, f, run_id)
    except IntegrityError:
        # Another request made it between the check and the insert.
        run = existing()
        if run is None:
            raise
        return run


async def create(request: Request) -> Response:
    """Create a run, with ``run_id`` if given; the same create again answers the same run."""
    f = await read_fields(request, _CREATE)
    st = state(request)
    run = await call(_create_or_get, st, f, f.get("run_id") or None)
    return json_response({"run": run_json(run, st.uris)})


def _points_of(
    run_id: str, metrics: list[dict[str, Any]]
) -> list[tuple[str, str, float, int, int]]:
    return [
        (
            run_id,
            check.validate_key(m["key"], "metric"),
            m["value"],
            m["timestamp"],
            check.metric_step(m.get("step", 0)),
        )
        for m in metrics
    ]


async def end(request: Request) -> Response:
    """Write a run's last points and end it, in one transaction (once per request id)."""
    f = await read_fields(request, _END, ("run_id", "status", "end_time"))
    rid = request_id(request)
    points = _points_of(f["run_id"], f.get("metrics", []))
    store = state(request).client.store
    await call(store.end_run, f["run_id"], f["status"], f["end_time"], points, request_id=rid)
    return json_response({})


def _point(i: int, raw: Any) -> tuple[str, str, float, int, int]:
    if (
        raw.__class__ is list
        and len(raw) == 5
        and raw[0].__class__ is str
        and raw[1].__class__ is str
        and raw[2].__class__ in (float, int)
        and raw[3].__class__ is int
        and raw[4].__class__ is int
    ):  # the common, well-typed case
        return (raw[0], check.validate_key(raw[1], "metric"), float(raw[2]), raw[3], raw[4])
    where = f"points[{i}]"
    if not isinstance(raw, list) or len(raw) != 5:
        raise InvalidInput(
            f"Invalid value for parameter '{where}' supplied: expected "
            "[run_id, key, value, timestamp, step]"
        )
    fields = parse(
        dict(zip(("run_id", "key", "value", "timestamp", "step"), raw, strict=True)),
        {"run_id": STR, "key": STR, "value": FLOAT, "timestamp": INT, "step": INT},
        ("run_id", "key"),
        prefix=f"{where}.",
    )
    for name in ("value", "timestamp", "step"):
        if name not in fields:
            raise InvalidInput(f"Missing value for required parameter '{where}.{name}'")
    return (
        fields["run_id"],
        check.validate_key(fields["key"], "metric"),
        fields["value"],
        fields["timestamp"],
        check.metric_step(fields["step"]),
    )


def _log_points(st: ServerState, points: list[Any], rid: str | None) -> None:
    for run_id in {p[0] for p in points}:
        st.client.store.get_run_info(run_id)  # NotFoundError names an unknown run
    st.client.store.log_metric_points(points, request_id=rid)


async def log_points(request: Request) -> Response:
    """Write ``[run_id, key, value, timestamp, step]`` points of any runs at once."""
    f = await read_fields(request, {"points": [ANY]}, ("points",))
    raw = f["points"]
    if len(raw) > MAX_POINTS:
        raise InvalidInput(
            f"A log-points request can carry at most {MAX_POINTS} points; got {len(raw)} "
            "in parameter 'points'"
        )
    points = [_point(i, p) for i, p in enumerate(raw)]
    await call(_log_points, state(request), points, request_id(request))
    return json_response({})


async def get_points(request: Request) -> Response:
    """One metric's points as columns: ``{"steps", "timestamps", "values"}``."""
    f = await read_fields(request, _GET_POINTS, ("run_id", "metric_key"))
    client = state(request).client
    points = await call(client.get_metric_points, f["run_id"], f["metric_key"])
    steps, timestamps, values = (
        (list(c) for c in zip(*points, strict=True)) if points else ([], [], [])
    )
    return json_response({"steps": steps, "timestamps": timestamps, "values": values})


async def lineage_log(request: Request) -> Response:
    """Append kernel cell executions to the lineage log, in order."""
    f = await read_fields(request, {"executions": [_EXECUTION]}, ())
    executions = [
        CellExecution(
            e["session_id"],
            e.get("cell_id"),
            e.get("execution_count"),
            e.get("source", ""),
            e["start_time"],
            e.get("duration_ms"),
            e.get("ok"),
        )
        for e in f.get("executions", [])
    ]
    if executions:
        await call(state(request).client.log_cell_executions, executions)
    return json_response({})


async def lineage_get(request: Request) -> Response:
    """A kernel session's executions in the order they ran."""
    f = await read_fields(request, _LINEAGE_GET, ("session_id",))
    client = state(request).client
    found = await call(client.get_cell_executions, f["session_id"], f.get("max_results"))
    return json_response(
        {
            "executions": [
                {
                    "id": i,
                    "session_id": e.session_id,
                    "cell_id": e.cell_id,
                    "execution_count": e.execution_count,
                    "source": e.source,
                    "start_time": e.start_time,
                    "duration_ms": e.duration_ms,
                    "ok": e.ok,
                }
                for i, e in enumerate(found, 1)
            ]
        }
    )


async def count(request: Request) -> Response:
    """How many runs the store holds, binned ones included."""
    await read_fields(request, {})
    return json_response({"count": await call(state(request).client.count_runs)})


async def purge(request: Request) -> Response:
    """Purge binned runs and experiments (and their artifacts) for good."""
    f = await read_fields(request, _PURGE)
    client = state(request).client
    done = await call(client.purge_deleted, f.get("older_than"), f.get("dry_run", False))
    return json_response(
        {
            "runs": [list(r) for r in done.runs],
            "experiments": [list(e) for e in done.experiments],
            "failed": [list(x) for x in done.failed],
        }
    )


async def search_models(request: Request) -> Response:
    """MLflow's registered-model search with the ``prompts`` flag (null: both)."""
    f = await read_fields(request, _REGISTRY_SEARCH)
    st = state(request)
    models, token = await call(
        st.client.store.search_registered_models,
        f.get("filter") or None,
        f.get("max_results", 100),
        f.get("order_by") or None,
        f.get("page_token") or None,
        f.get("prompts"),
    )
    out: dict[str, Any] = {"registered_models": [registered_model_json(m, st.uris) for m in models]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def search_versions(request: Request) -> Response:
    """MLflow's model-version search with the ``prompts`` flag (null: both)."""
    f = await read_fields(request, _REGISTRY_SEARCH)
    st = state(request)
    versions, token = await call(
        st.client.store.search_model_versions,
        f.get("filter") or None,
        f.get("max_results", 10000),
        f.get("order_by") or None,
        f.get("page_token") or None,
        f.get("prompts"),
    )
    out: dict[str, Any] = {"model_versions": [model_version_json(v, st.uris) for v in versions]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def get_info(request: Request) -> Response:
    """A run's info alone (a cheap status check); ``{"run_info"}``."""
    f = await read_fields(request, {"run_id": STR}, ("run_id",))
    st = state(request)
    info = await call(st.client.store.get_run_info, f["run_id"])
    return json_response({"run_info": run_info_json(info, st.uris)})


async def server_info(request: Request) -> Response:
    """The server's version, where its artifacts go (scheme only) and whether it checks users."""
    from nbtrack import __version__

    await read_fields(request, {})
    st = state(request)
    scheme = st.destination.split("://", 1)[0] if "://" in st.destination else "file"
    return json_response(
        {"version": __version__, "artifacts_destination_scheme": scheme, "auth": st.auth}
    )


ROUTES = [
    route(f"{P}/runs/create", create, "POST"),
    route(f"{P}/runs/end", end, "POST"),
    route(f"{P}/runs/get-info", get_info, "GET"),
    route(f"{P}/runs/count", count, "GET"),
    route(f"{P}/runs/purge", purge, "POST"),
    route(f"{P}/metrics/log-points", log_points, "POST"),
    route(f"{P}/metrics/get-points", get_points, "GET"),
    route(f"{P}/lineage/log", lineage_log, "POST"),
    route(f"{P}/lineage/get", lineage_get, "GET"),
    route(f"{P}/registered-models/search", search_models, "POST"),
    route(f"{P}/model-versions/search", search_versions, "POST"),
    route(f"{P}/server-info", server_info, "GET"),
]
