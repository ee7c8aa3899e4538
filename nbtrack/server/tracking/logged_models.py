"""``/api/2.0/mlflow/logged-models*``: MLflow 3's logged models, which ``log_model`` goes through.

MLflow 3 creates a logged model (an id ``m-<hex>`` and an artifact folder
``<experiment artifacts>/models/<id>/artifacts``), uploads the model there
through the artifact proxy, finalizes it, and registers ``models:/<id>``.

Where they are kept: nbtrack's schema has no logged-model table yet, and a
migration is the lead's call, so each model is an append-only record in the
store's lineage log (one JSON record per change under the session id
``nbtrack.logged-model/<id>``; the newest record is the model), plus an index
per experiment (``nbtrack.logged-models/<experiment_id>``, one entry per model).
That is durable, transactional, shared by every worker over the same backend
store, and needs nothing new in the schema; a table would make searches
cheaper, which matters only at thousands of models per experiment.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.entities import CellExecution
from nbtrack.errors import InvalidFilter, InvalidInput, NotFoundError
from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import BOOL, INT, REQUIRED, STR, Enum, read_fields
from nbtrack.server.tracking.entities_json import kv
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.experiments import TAG
from nbtrack.store.paging import decode_page_token, split_page

__all__ = ["ROUTES", "get_model", "link_outputs"]

P = "/api/2.0/mlflow/logged-models"
STATUS = Enum(
    (
        "LOGGED_MODEL_STATUS_UNSPECIFIED",
        "LOGGED_MODEL_PENDING",
        "LOGGED_MODEL_READY",
        "LOGGED_MODEL_UPLOAD_FAILED",
    )
)
_RECORD = "nbtrack.logged-model/"
_INDEX = "nbtrack.logged-models/"
_PARAM = {"key": STR, "value": STR, REQUIRED: ("key",)}
_CREATE = {
    "experiment_id": STR,
    "name": STR,
    "model_type": STR,
    "source_run_id": STR,
    "params": [_PARAM],
    "tags": [TAG],
}
_ORDER = {"field_name": STR, "ascending": BOOL, "dataset_name": STR, "dataset_digest": STR}
_SEARCH = {
    "experiment_ids": [STR],
    "filter": STR,
    "datasets": [{"dataset_name": STR, "dataset_digest": STR}],
    "max_results": INT,
    "order_by": [_ORDER],
    "page_token": STR,
}
_FILTER_TERM = re.compile(
    r"\s*(?P<field>[A-Za-z_][\w.]*|`[^`]+`)\s*(?P<op>=|!=)\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*"
)
_FILTER_FIELDS = ("name", "model_id", "source_run_id", "model_type", "status")


def _now() -> int:
    return int(time.time() * 1000)


def _save(st: ServerState, model: dict[str, Any], new: bool = False) -> None:
    now = _now()
    record = CellExecution(_RECORD + model["model_id"], None, None, json.dumps(model), now)
    entries = [record]
    if new:
        index = _INDEX + model["experiment_id"]
        entries.append(CellExecution(index, None, None, model["model_id"], now))
    st.client.log_cell_executions(entries)


def get_model(st: ServerState, model_id: str, allow_deleted: bool = False) -> dict[str, Any]:
    """Return a logged model's newest record; NotFoundError if there is none (or it is deleted)."""
    records = st.client.get_cell_executions(_RECORD + model_id)
    if not records:
        raise NotFoundError(f"Logged model with ID '{model_id}' not found")
    model: dict[str, Any] = json.loads(records[-1].source)
    if model.get("deleted") and not allow_deleted:
        raise NotFoundError(f"Logged model with ID '{model_id}' not found")
    return model


def model_json(model: dict[str, Any], st: ServerState) -> dict[str, Any]:
    """A logged model as MLflow's ``LoggedModel`` message."""
    info = {
        "model_id": model["model_id"],
        "experiment_id": model["experiment_id"],
        "name": model["name"],
        "creation_timestamp_ms": model["creation_timestamp_ms"],
        "last_updated_timestamp_ms": model["last_updated_timestamp_ms"],
        "artifact_uri": st.uris.out(model["artifact_location"]),
        "status": model["status"],
        "tags": kv(model["tags"]),
    }
    for optional in ("model_type", "source_run_id", "status_message"):
        if model.get(optional):
            info[optional] = model[optional]
    return {"info": info, "data": {"params": kv(model["params"]), "metrics": []}}


def _create(st: ServerState, f: dict[str, Any]) -> dict[str, Any]:
    from nbtrack.tracking.names import generate_run_name

    exp = st.client.get_experiment(f["experiment_id"])
    model_id = f"m-{uuid.uuid4().hex}"
    now = _now()
    model = {
        "model_id": model_id,
        "experiment_id": exp.experiment_id,
        "name": f.get("name") or generate_run_name(),
        "artifact_location": f"{exp.artifact_location.rstrip('/')}/models/{model_id}/artifacts",
        "creation_timestamp_ms": now,
        "last_updated_timestamp_ms": now,
        "status": "LOGGED_MODEL_PENDING",
        "model_type": f.get("model_type"),
        "source_run_id": f.get("source_run_id"),
        "tags": {t["key"]: t.get("value", "") for t in f.get("tags", [])},
        "params": {p["key"]: p.get("value", "") for p in f.get("params", [])},
    }
    _save(st, model, new=True)
    return model


def _change(st: ServerState, model_id: str, **changes: Any) -> dict[str, Any]:
    model = get_model(st, model_id)
    for key, value in changes.items():
        if key in ("tags", "params"):
            model[key] = {**model[key], **value}
        elif key == "drop_tag":
            model["tags"].pop(value, None)
        else:
            model[key] = value
    model["last_updated_timestamp_ms"] = _now()
    _save(st, model)
    return model


def link_outputs(st: ServerState, run_id: str, model_ids: list[str]) -> None:
    """Check a run and the models it says it produced (``runs/outputs``)."""
    st.client.store.get_run_info(run_id)
    for model_id in model_ids:
        model = get_model(st, model_id)
        if not model.get("source_run_id"):
            _change(st, model_id, source_run_id=run_id)


def _matches(model: dict[str, Any], terms: list[tuple[str, str, str]]) -> bool:
    for field, op, value in terms:
        if field.startswith("tags."):
            actual = model["tags"].get(field[5:])
        elif field.startswith("params."):
            actual = model["params"].get(field[7:])
        else:
            actual = model.get(field)
        if (actual == value) != (op == "="):
            return False
    return True


def _parse_filter(text: str) -> list[tuple[str, str, str]]:
    terms: list[tuple[str, str, str]] = []
    pos = 0
    for part in re.split(r"(?i)\s+AND\s+", text.strip()) if text.strip() else []:
        m = _FILTER_TERM.fullmatch(part)
        field = m.group("field").strip("`") if m else ""
        known = field in _FILTER_FIELDS or field.startswith(("tags.", "params."))
        if m is None or not known:
            raise InvalidFilter(
                text,
                pos,
                "logged models filter on name, model_id, source_run_id, model_type, status, "
                "tags.<key> or params.<key> with = or != and a quoted value, joined by AND",
            )
        terms.append((field, m.group("op"), m.group("value").replace("\\'", "'")))
        pos += len(part) + 5
    return terms


def _search(st: ServerState, f: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    terms = _parse_filter(f.get("filter", ""))
    found: list[dict[str, Any]] = []
    for exp_id in f.get("experiment_ids", []):
        for entry in st.client.get_cell_executions(_INDEX + exp_id):
            try:
                model = get_model(st, entry.source)
            except NotFoundError:
                continue
            if _matches(model, terms):
                found.append(model)
    order = f.get("order_by") or [{"field_name": "creation_timestamp_ms", "ascending": False}]
    for item in reversed(order):
        name = item.get("field_name", "")
        key = {"creation_time": "creation_timestamp_ms"}.get(name, name)
        found.sort(key=lambda m: str(m.get(key) or ""), reverse=not item.get("ascending", True))
    offset = decode_page_token(f.get("page_token"))
    limit = f.get("max_results") or 100
    return split_page(found[offset : offset + limit + 1], offset, limit)


async def create(request: Request) -> Response:
    """Create a PENDING logged model; ``{"model"}``."""
    f = await read_fields(request, _CREATE, ("experiment_id",))
    st = state(request)
    return json_response({"model": model_json(await call(_create, st, f), st)})


async def get(request: Request) -> Response:
    """One logged model; ``{"model"}``."""
    f = await read_fields(request, {"model_id": STR, "allow_deleted": BOOL})
    st = state(request)
    model_id = request.path_params["model_id"]
    model = await call(get_model, st, model_id, f.get("allow_deleted", False))
    return json_response({"model": model_json(model, st)})


async def finalize(request: Request) -> Response:
    """Set a logged model's final status; ``{"model"}``."""
    f = await read_fields(request, {"model_id": STR, "status": STATUS}, ("status",))
    st = state(request)
    model = await call(_change, st, request.path_params["model_id"], status=f["status"])
    return json_response({"model": model_json(model, st)})


async def delete(request: Request) -> Response:
    """Delete a logged model (its record stays, marked deleted)."""
    await read_fields(request, {"model_id": STR})
    await call(_change, state(request), request.path_params["model_id"], deleted=True)
    return json_response({})


async def search(request: Request) -> Response:
    """Logged models of some experiments; ``{"models", "next_page_token"?}``."""
    f = await read_fields(request, _SEARCH)
    if f.get("datasets"):
        raise InvalidInput("Searching logged models by dataset is not supported by this server")
    st = state(request)
    models, token = await call(_search, st, f)
    out: dict[str, Any] = {"models": [model_json(m, st) for m in models]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def set_tags(request: Request) -> Response:
    """Set tags of a logged model; ``{"model"}``."""
    f = await read_fields(request, {"model_id": STR, "tags": [TAG]})
    st = state(request)
    tags = {t["key"]: t.get("value", "") for t in f.get("tags", [])}
    model = await call(_change, st, request.path_params["model_id"], tags=tags)
    return json_response({"model": model_json(model, st)})


async def delete_tag(request: Request) -> Response:
    """Remove one tag of a logged model."""
    await read_fields(request, {"model_id": STR, "tag_key": STR})
    p = request.path_params
    await call(_change, state(request), p["model_id"], drop_tag=p["tag_key"])
    return json_response({})


async def log_params(request: Request) -> Response:
    """Add params to a logged model."""
    f = await read_fields(request, {"model_id": STR, "params": [_PARAM]})
    params = {p["key"]: p.get("value", "") for p in f.get("params", [])}
    await call(_change, state(request), request.path_params["model_id"], params=params)
    return json_response({})


ROUTES = [
    route(P, create, "POST"),
    route(f"{P}/search", search, "POST"),
    route(f"{P}/{{model_id}}", get, "GET"),
    route(f"{P}/{{model_id}}", finalize, "PATCH"),
    route(f"{P}/{{model_id}}", delete, "DELETE"),
    route(f"{P}/{{model_id}}/tags", set_tags, "PATCH"),
    route(f"{P}/{{model_id}}/tags/{{tag_key}}", delete_tag, "DELETE"),
    route(f"{P}/{{model_id}}/params", log_params, "POST"),
]
