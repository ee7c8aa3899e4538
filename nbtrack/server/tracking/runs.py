"""``/api/2.0/mlflow/runs/*`` (logging is in ``metrics.py``) and the run's artifact list."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.entities import Dataset, DatasetInput, Run, RunStatus, RunTag
from nbtrack.errors import InvalidInput
from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import INT, REQUIRED, STR, Enum, read_fields
from nbtrack.server.tracking.entities_json import dumps_if_finite, run_info_json, run_json
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.experiments import TAG, VIEW_TYPE, max_results

__all__ = ["CREATE", "ROUTES", "create_run", "run_id_of"]

P = "/api/2.0/mlflow/runs"
#: MLflow's RunStatus enum (numbers from 1).
RUN_STATUS = Enum(RunStatus.ALL, first=1)
RUN_NAME_TAG = "mlflow.runName"

CREATE: dict[str, Any] = {
    "experiment_id": STR,
    "user_id": STR,
    "run_name": STR,
    "start_time": INT,
    "tags": [TAG],
}
_RUN = {"run_id": STR, "run_uuid": STR}
_UPDATE = {**_RUN, "status": RUN_STATUS, "end_time": INT, "run_name": STR}
_DELETE_TAG = {"run_id": STR, "key": STR}
_SEARCH = {
    "experiment_ids": [STR],
    "filter": STR,
    "run_view_type": VIEW_TYPE,
    "max_results": INT,
    "order_by": [STR],
    "page_token": STR,
}
_DATASET = {
    "name": STR,
    "digest": STR,
    "source_type": STR,
    "source": STR,
    "schema": STR,
    "profile": STR,
    REQUIRED: ("name", "digest"),
}
_LOG_INPUTS = {
    "run_id": STR,
    "datasets": [{"tags": [TAG], "dataset": _DATASET, REQUIRED: ("dataset",)}],
    "models": [{"model_id": STR, REQUIRED: ("model_id",)}],
}
_OUTPUTS = {"run_id": STR, "models": [{"model_id": STR, "step": INT, REQUIRED: ("model_id",)}]}
_LIST_ARTIFACTS = {**_RUN, "path": STR, "page_token": STR}


def run_id_of(fields: dict[str, Any]) -> str:
    """Return ``run_id`` (or MLflow's older ``run_uuid``); InvalidInput naming it if neither."""
    run_id = fields.get("run_id") or fields.get("run_uuid")
    if not run_id:
        raise InvalidInput(
            "Missing value for required parameter 'run_id'. "
            "See the API docs for more information about request parameters."
        )
    return str(run_id)


def create_run(st: ServerState, f: dict[str, Any], run_id: str | None = None) -> Run:
    """Create a run from a ``runs/create`` body, naming it as MLflow's server does.

    The name is ``run_name``, else the ``mlflow.runName`` tag, else generated;
    the tag is set to the name either way.
    """
    from nbtrack.tracking.names import generate_run_name

    tags = {t["key"]: t.get("value", "") for t in f.get("tags", [])}
    name = f.get("run_name") or tags.get(RUN_NAME_TAG) or generate_run_name()
    tags[RUN_NAME_TAG] = name
    start = f.get("start_time") or int(time.time() * 1000)
    return st.client.store.create_run(
        f.get("experiment_id") or "0",
        f.get("user_id", ""),
        start,
        [RunTag(k, v) for k, v in tags.items()],
        name,
        run_id,
    )


async def create(request: Request) -> Response:
    """Create a RUNNING run; ``{"run"}``."""
    f = await read_fields(request, CREATE)
    st = state(request)
    run = await call(create_run, st, f)
    return json_response({"run": run_json(run, st.uris)})


async def get(request: Request) -> Response:
    """One run with its data; ``{"run"}``."""
    f = await read_fields(request, _RUN)
    st = state(request)
    run = await call(st.client.get_run, run_id_of(f))
    return json_response({"run": run_json(run, st.uris)})


def _update(st: ServerState, run_id: str, f: dict[str, Any]) -> Any:
    status, end_time = f.get("status"), f.get("end_time")
    if status is not None and RunStatus.is_terminated(status) and end_time is None:
        end_time = int(time.time() * 1000)
    return st.client.store.update_run_info(
        run_id, status=status, end_time=end_time, run_name=f.get("run_name") or None
    )


async def update(request: Request) -> Response:
    """Change a run's status, end time or name; ``{"run_info"}``."""
    f = await read_fields(request, _UPDATE)
    st = state(request)
    info = await call(_update, st, run_id_of(f), f)
    return json_response({"run_info": run_info_json(info, st.uris)})


async def delete(request: Request) -> Response:
    """Move a run to the bin."""
    f = await read_fields(request, {"run_id": STR}, ("run_id",))
    await call(state(request).client.delete_run, f["run_id"])
    return json_response({})


async def restore(request: Request) -> Response:
    """Bring a binned run back."""
    f = await read_fields(request, {"run_id": STR}, ("run_id",))
    await call(state(request).client.restore_run, f["run_id"])
    return json_response({})


async def delete_tag(request: Request) -> Response:
    """Remove a run tag."""
    f = await read_fields(request, _DELETE_TAG, ("run_id", "key"))
    await call(state(request).client.delete_tag, f["run_id"], f["key"])
    return json_response({})


async def search(request: Request) -> Response:
    """One page of runs; ``{"runs", "next_page_token"?}``."""
    f = await read_fields(request, _SEARCH)
    st = state(request)
    page = await call(
        st.client.search_runs,
        f.get("experiment_ids", []),
        f.get("filter", ""),
        f.get("run_view_type", "ACTIVE_ONLY"),
        max_results(f, 1000),
        f.get("order_by") or None,
        f.get("page_token") or None,
    )
    out: dict[str, Any] = {"runs": [run_json(r, st.uris) for r in page]}
    if page.token:
        out["next_page_token"] = page.token
    body = dumps_if_finite(out, [v for r in page for v in r.data.metrics.values()])
    if body is None:
        return json_response(out)
    return Response(body, media_type="application/json")


async def log_inputs(request: Request) -> Response:
    """Link datasets to a run (logged-model inputs are accepted and not kept)."""
    f = await read_fields(request, _LOG_INPUTS, ("run_id",))
    datasets = [
        DatasetInput(
            Dataset(
                d["dataset"]["name"],
                d["dataset"]["digest"],
                d["dataset"].get("source_type", ""),
                d["dataset"].get("source", ""),
                d["dataset"].get("schema"),
                d["dataset"].get("profile"),
            ),
            {t["key"]: t.get("value", "") for t in d.get("tags", [])},
        )
        for d in f.get("datasets", [])
    ]
    client = state(request).client
    if datasets:
        # The store's check, as MLflow's: an ended run takes inputs, a deleted one does not.
        await call(client.store.log_inputs, f["run_id"], datasets)
    else:
        await call(client.store.get_run_info, f["run_id"])
    return json_response({})


async def outputs(request: Request) -> Response:
    """Record the logged models a run produced (kept on the models, see ``logged_models``)."""
    from nbtrack.server.tracking.logged_models import link_outputs

    f = await read_fields(request, _OUTPUTS, ("run_id",))
    await call(
        link_outputs, state(request), f["run_id"], [m["model_id"] for m in f.get("models", [])]
    )
    return json_response({})


async def list_artifacts(request: Request) -> Response:
    """A run's artifacts under ``path``; ``{"root_uri", "files"}``."""
    f = await read_fields(request, _LIST_ARTIFACTS)
    st = state(request)
    run_id = run_id_of(f)
    path = f.get("path") or None
    info = await call(st.client.store.get_run_info, run_id)
    files = await call(st.client.list_artifacts, run_id, path)
    listed = []
    for item in files:
        entry: dict[str, Any] = {"path": item.path, "is_dir": item.is_dir}
        if item.file_size is not None:
            entry["file_size"] = item.file_size
        listed.append(entry)
    return json_response({"root_uri": st.uris.out(info.artifact_uri), "files": listed})


ROUTES = [
    route(f"{P}/create", create, "POST"),
    route(f"{P}/get", get, "GET"),
    route(f"{P}/update", update, "POST"),
    route(f"{P}/delete", delete, "POST"),
    route(f"{P}/restore", restore, "POST"),
    route(f"{P}/delete-tag", delete_tag, "POST"),
    route(f"{P}/search", search, "POST"),
    route(f"{P}/log-inputs", log_inputs, "POST"),
    route(f"{P}/outputs", outputs, "POST"),
    route("/api/2.0/mlflow/artifacts/list", list_artifacts, "GET"),
]
