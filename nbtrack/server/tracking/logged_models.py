"""``/api/2.0/mlflow/logged-models*``: MLflow 3's logged models, which ``log_model`` goes through.

MLflow 3 creates a logged model (an id ``m-<hex>`` and an artifact folder
``<experiment artifacts>/models/<id>/artifacts``), uploads the model there
through the artifact proxy, finalizes it, and registers ``models:/<id>``.

They are kept in the store's ``logged_models`` tables, through ``nbtrack.Client``;
this module reads MLflow's bodies, parses the search filter into terms the
store queries, and writes MLflow's JSON.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.errors import InvalidFilter, InvalidInput
from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import BOOL, INT, REQUIRED, STR, Enum, read_fields
from nbtrack.server.tracking.entities_json import kv
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.experiments import TAG

if TYPE_CHECKING:
    from nbtrack.entities import LoggedModel

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


def get_model(st: ServerState, model_id: str, allow_deleted: bool = False) -> dict[str, Any]:
    """Return a logged model's fields as a dict; NotFoundError if there is none (or deleted)."""
    return dataclasses.asdict(st.client.get_logged_model(model_id, allow_deleted))


def model_json(model: LoggedModel, st: ServerState) -> dict[str, Any]:
    """A logged model as MLflow's ``LoggedModel`` message."""
    info = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": st.uris.out(model.artifact_location),
        "status": model.status,
        "tags": kv(model.tags),
    }
    for optional in ("model_type", "source_run_id", "status_message"):
        if getattr(model, optional):
            info[optional] = getattr(model, optional)
    return {"info": info, "data": {"params": kv(model.params), "metrics": []}}


def _create(st: ServerState, f: dict[str, Any]) -> LoggedModel:
    exp = st.client.get_experiment(f["experiment_id"])
    return st.client.create_logged_model(
        exp.experiment_id,
        f.get("name"),
        model_type=f.get("model_type"),
        source_run_id=f.get("source_run_id"),
        params={p["key"]: p.get("value", "") for p in f.get("params", [])},
        tags={t["key"]: t.get("value", "") for t in f.get("tags", [])},
    )


def link_outputs(st: ServerState, run_id: str, model_ids: list[str]) -> None:
    """Check a run and the models it says it produced (``runs/outputs``)."""
    st.client.store.get_run_info(run_id)
    for model_id in model_ids:
        model = st.client.get_logged_model(model_id)
        if not model.source_run_id:
            st.client.update_logged_model(model_id, source_run_id=run_id)


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


def _search(st: ServerState, f: dict[str, Any]) -> tuple[list[LoggedModel], str | None]:
    terms = _parse_filter(f.get("filter", ""))
    order = [(o.get("field_name", ""), o.get("ascending", True)) for o in f.get("order_by", [])]
    return st.client.search_logged_models(
        f.get("experiment_ids", []),
        terms,
        order,
        f.get("max_results") or 100,
        f.get("page_token"),
    )


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
    model = await call(st.client.get_logged_model, model_id, f.get("allow_deleted", False))
    return json_response({"model": model_json(model, st)})


async def finalize(request: Request) -> Response:
    """Set a logged model's final status; ``{"model"}``."""
    f = await read_fields(request, {"model_id": STR, "status": STATUS}, ("status",))
    st = state(request)
    model = await call(
        st.client.finalize_logged_model, request.path_params["model_id"], f["status"]
    )
    return json_response({"model": model_json(model, st)})


async def delete(request: Request) -> Response:
    """Delete a logged model (its row stays, marked deleted)."""
    await read_fields(request, {"model_id": STR})
    await call(state(request).client.delete_logged_model, request.path_params["model_id"])
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
    model_id = request.path_params["model_id"]
    await call(st.client.set_logged_model_tags, model_id, tags)
    model = await call(st.client.get_logged_model, model_id)
    return json_response({"model": model_json(model, st)})


async def delete_tag(request: Request) -> Response:
    """Remove one tag of a logged model."""
    await read_fields(request, {"model_id": STR, "tag_key": STR})
    p = request.path_params
    await call(state(request).client.delete_logged_model_tag, p["model_id"], p["tag_key"])
    return json_response({})


async def log_params(request: Request) -> Response:
    """Add params to a logged model."""
    f = await read_fields(request, {"model_id": STR, "params": [_PARAM]})
    params = {p["key"]: p.get("value", "") for p in f.get("params", [])}
    await call(state(request).client.log_model_params, request.path_params["model_id"], params)
    return json_response({})


def _list_artifacts(st: ServerState, model_id: str, path: str | None) -> dict[str, Any]:
    model = st.client.get_logged_model(model_id)
    files = st.client.store.artifact_repository(model.artifact_location).list_artifacts(path)
    listed: list[dict[str, Any]] = []
    for item in files:
        entry: dict[str, Any] = {"path": item.path, "is_dir": item.is_dir}
        if item.file_size is not None:
            entry["file_size"] = item.file_size
        listed.append(entry)
    out: dict[str, Any] = {"root_uri": st.uris.out(model.artifact_location)}
    if listed:
        out["files"] = listed
    return out


async def list_artifacts(request: Request) -> Response:
    """A logged model's artifacts under ``artifact_directory_path``; ``{"root_uri", "files"}``.

    Paths are relative to the model's artifact root, as MLflow lists them; a
    path that leaves the root is refused (InvalidInput), a missing one lists
    nothing.
    """
    f = await read_fields(request, {"model_id": STR, "artifact_directory_path": STR})
    st = state(request)
    model_id = request.path_params["model_id"]
    path = f.get("artifact_directory_path") or None
    return json_response(await call(_list_artifacts, st, model_id, path))


ROUTES = [
    route(P, create, "POST"),
    route(f"{P}/search", search, "POST"),
    route(f"{P}/{{model_id}}", get, "GET"),
    route(f"{P}/{{model_id}}", finalize, "PATCH"),
    route(f"{P}/{{model_id}}", delete, "DELETE"),
    route(f"{P}/{{model_id}}/tags", set_tags, "PATCH"),
    route(f"{P}/{{model_id}}/tags/{{tag_key}}", delete_tag, "DELETE"),
    route(f"{P}/{{model_id}}/params", log_params, "POST"),
    route(f"{P}/{{model_id}}/artifacts/directories", list_artifacts, "GET"),
]
