"""``/api/2.0/mlflow/registered-models/*`` and ``/model-versions/*``: MLflow's model registry.

Prompts are registered models too (MLflow's tag marks them); MLflow's search
routes list models only, as MLflow's do. A version registered from a logged
model (MLflow 3's ``models:/<model_id>`` source) is stored with the model's real
artifact location as its source, so nbtrack's own ``load_model`` reads it too.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.server.tracking._state import ServerState, call, route, state
from nbtrack.server.tracking.bodies import BOOL, INT, STR, read_fields
from nbtrack.server.tracking.entities_json import model_version_json, registered_model_json
from nbtrack.server.tracking.errors import json_response
from nbtrack.server.tracking.experiments import TAG

__all__ = ["ROUTES"]

RM = "/api/2.0/mlflow/registered-models"
MV = "/api/2.0/mlflow/model-versions"

_NAME = {"name": STR}
_CREATE = {"name": STR, "tags": [TAG], "description": STR, "deployment_job_id": STR}
_UPDATE = {"name": STR, "description": STR, "deployment_job_id": STR}
_SEARCH = {"filter": STR, "max_results": INT, "order_by": [STR], "page_token": STR}
_TAG = {"name": STR, "key": STR, "value": STR}
_ALIAS = {"name": STR, "alias": STR, "version": STR}
_VERSION = {"name": STR, "version": STR}
_MV_CREATE = {
    "name": STR,
    "source": STR,
    "run_id": STR,
    "tags": [TAG],
    "run_link": STR,
    "description": STR,
    "model_id": STR,
}
_MV_UPDATE = {"name": STR, "version": STR, "description": STR}
_MV_STAGE = {"name": STR, "version": STR, "stage": STR, "archive_existing_versions": BOOL}
_MV_TAG = {"name": STR, "version": STR, "key": STR, "value": STR}


# MLflow 3's client adds this clause to every registry search (to leave prompts out, or
# only them); the store has a flag for it, and a != on a tag most models lack would
# otherwise drop them all.
_PROMPT_CLAUSE = re.compile(
    r"(?i)(?:\s+AND\s+)?\btags?\.`?mlflow\.prompt\.is_prompt`?\s*(!=|=)\s*'true'(?:\s+AND\s+)?"
)


def prompt_flag(filter_string: str | None) -> tuple[str | None, bool]:
    """Return the filter without MLflow's prompt clause, and whether it asks for prompts."""
    if not filter_string:
        return None, False
    found = _PROMPT_CLAUSE.search(filter_string)
    if found is None:
        return filter_string, False
    rest = (filter_string[: found.start()] + " AND " + filter_string[found.end() :]).strip()
    rest = re.sub(r"(?i)^AND\s+|\s+AND$|^AND$", "", rest).strip()
    return rest or None, found.group(1) == "="


def _tags(f: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in f.get("tags", [])}


def _model(st: ServerState, model: Any) -> Response:
    return json_response({"registered_model": registered_model_json(model, st.uris)})


def _version(st: ServerState, version: Any) -> Response:
    return json_response({"model_version": model_version_json(version, st.uris)})


async def create(request: Request) -> Response:
    """Create a registered model."""
    f = await read_fields(request, _CREATE, ("name",))
    st = state(request)
    client = st.client
    model = await call(client.create_registered_model, f["name"], _tags(f), f.get("description"))
    return _model(st, model)


async def rename(request: Request) -> Response:
    """Rename a registered model."""
    f = await read_fields(request, {"name": STR, "new_name": STR}, ("name", "new_name"))
    st = state(request)
    return _model(st, await call(st.client.rename_registered_model, f["name"], f["new_name"]))


async def update(request: Request) -> Response:
    """Set a registered model's description."""
    f = await read_fields(request, _UPDATE, ("name",))
    st = state(request)
    client = st.client
    return _model(st, await call(client.update_registered_model, f["name"], f.get("description")))


async def delete(request: Request) -> Response:
    """Delete a registered model with its versions."""
    f = await read_fields(request, _NAME, ("name",))
    await call(state(request).client.delete_registered_model, f["name"])
    return json_response({})


async def get(request: Request) -> Response:
    """One registered model."""
    f = await read_fields(request, _NAME, ("name",))
    st = state(request)
    return _model(st, await call(st.client.get_registered_model, f["name"]))


async def search(request: Request) -> Response:
    """One page of registered models (prompts excluded)."""
    f = await read_fields(request, _SEARCH)
    st = state(request)
    filter_string, prompts = prompt_flag(f.get("filter"))
    page, token = await call(
        st.client.store.search_registered_models,
        filter_string,
        f.get("max_results", 100),
        f.get("order_by") or None,
        f.get("page_token") or None,
        prompts,
    )
    out: dict[str, Any] = {"registered_models": [registered_model_json(m, st.uris) for m in page]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def latest_versions(request: Request) -> Response:
    """The newest version of each stage asked for."""
    f = await read_fields(request, {"name": STR, "stages": [STR]}, ("name",))
    st = state(request)
    found = await call(st.client.store.get_latest_versions, f["name"], f.get("stages") or None)
    return json_response({"model_versions": [model_version_json(v, st.uris) for v in found]})


async def set_model_tag(request: Request) -> Response:
    """Set a registered model's tag."""
    f = await read_fields(request, _TAG, ("name", "key"))
    client = state(request).client
    await call(client.set_registered_model_tag, f["name"], f["key"], f.get("value", ""))
    return json_response({})


async def delete_model_tag(request: Request) -> Response:
    """Remove a registered model's tag."""
    f = await read_fields(request, {"name": STR, "key": STR}, ("name", "key"))
    await call(state(request).client.delete_registered_model_tag, f["name"], f["key"])
    return json_response({})


async def set_alias(request: Request) -> Response:
    """Point an alias at a version."""
    f = await read_fields(request, _ALIAS, ("name", "alias", "version"))
    client = state(request).client
    await call(client.set_registered_model_alias, f["name"], f["alias"], f["version"])
    return json_response({})


async def delete_alias(request: Request) -> Response:
    """Remove an alias."""
    f = await read_fields(request, {"name": STR, "alias": STR}, ("name", "alias"))
    await call(state(request).client.delete_registered_model_alias, f["name"], f["alias"])
    return json_response({})


async def get_by_alias(request: Request) -> Response:
    """The version an alias points at."""
    f = await read_fields(request, {"name": STR, "alias": STR}, ("name", "alias"))
    st = state(request)
    return _version(st, await call(st.client.get_model_version_by_alias, f["name"], f["alias"]))


def _create_version(st: ServerState, f: dict[str, Any]) -> Any:
    from nbtrack.server.tracking.logged_models import get_model

    source = st.uris.into(f["source"]) or f["source"]
    run_id = f.get("run_id") or None
    model_id = f.get("model_id")
    if not model_id and source.startswith("models:/m-") and "/" not in source[8:]:
        model_id = source[8:]
    storage = None
    if model_id:
        logged = get_model(st, model_id)
        source = storage = logged["artifact_location"]
        run_id = run_id or logged.get("source_run_id") or None
    elif source.startswith("runs:/"):
        from nbtrack.uris import parse_runs_uri

        source_run, path = parse_runs_uri(source)
        run_id = run_id or source_run
        base = st.client.store.get_run_info(source_run).artifact_uri.rstrip("/")
        storage = f"{base}/{path}" if path else base
    return st.client.store.create_model_version(
        f["name"],
        source,
        run_id,
        _tags(f),
        f.get("run_link"),
        f.get("description"),
        None,
        storage,
    )


async def create_version(request: Request) -> Response:
    """Register a new version of a model."""
    f = await read_fields(request, _MV_CREATE, ("name", "source"))
    st = state(request)
    return _version(st, await call(_create_version, st, f))


async def update_version(request: Request) -> Response:
    """Set a version's description."""
    f = await read_fields(request, _MV_UPDATE, ("name", "version"))
    st = state(request)
    client = st.client
    found = await call(client.update_model_version, f["name"], f["version"], f.get("description"))
    return _version(st, found)


async def transition_stage(request: Request) -> Response:
    """Move a version to one of MLflow's legacy stages."""
    f = await read_fields(request, _MV_STAGE, ("name", "version", "stage"))
    st = state(request)
    found = await call(
        st.client.transition_model_version_stage,
        f["name"],
        f["version"],
        f["stage"],
        f.get("archive_existing_versions", False),
    )
    return _version(st, found)


async def delete_version(request: Request) -> Response:
    """Delete a version."""
    f = await read_fields(request, _VERSION, ("name", "version"))
    await call(state(request).client.delete_model_version, f["name"], f["version"])
    return json_response({})


async def get_version(request: Request) -> Response:
    """One version."""
    f = await read_fields(request, _VERSION, ("name", "version"))
    st = state(request)
    return _version(st, await call(st.client.get_model_version, f["name"], f["version"]))


async def search_versions(request: Request) -> Response:
    """One page of model versions (prompt versions excluded)."""
    f = await read_fields(request, _SEARCH)
    st = state(request)
    filter_string, prompts = prompt_flag(f.get("filter"))
    page, token = await call(
        st.client.store.search_model_versions,
        filter_string,
        f.get("max_results", 10000),
        f.get("order_by") or None,
        f.get("page_token") or None,
        prompts,
    )
    out: dict[str, Any] = {"model_versions": [model_version_json(v, st.uris) for v in page]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


def _download_uri(st: ServerState, name: str, version: str) -> str | None:
    found = st.client.get_model_version(name, version)
    source = found.source or ""
    if source.startswith("runs:/"):
        from nbtrack.uris import parse_runs_uri

        run_id, path = parse_runs_uri(source)
        base = st.client.store.get_run_info(run_id).artifact_uri.rstrip("/")
        source = f"{base}/{path}" if path else base
    return st.uris.out(source)


async def download_uri(request: Request) -> Response:
    """Where a version's files are, as the client should fetch them."""
    f = await read_fields(request, _VERSION, ("name", "version"))
    st = state(request)
    return json_response({"artifact_uri": await call(_download_uri, st, f["name"], f["version"])})


async def set_version_tag(request: Request) -> Response:
    """Set a version's tag."""
    f = await read_fields(request, _MV_TAG, ("name", "version", "key"))
    client = state(request).client
    await call(client.set_model_version_tag, f["name"], f["version"], f["key"], f.get("value", ""))
    return json_response({})


async def delete_version_tag(request: Request) -> Response:
    """Remove a version's tag."""
    f = await read_fields(request, {**_VERSION, "key": STR}, ("name", "version", "key"))
    client = state(request).client
    await call(client.delete_model_version_tag, f["name"], f["version"], f["key"])
    return json_response({})


ROUTES = [
    route(f"{RM}/create", create, "POST"),
    route(f"{RM}/rename", rename, "POST"),
    route(f"{RM}/update", update, "PATCH"),
    route(f"{RM}/delete", delete, "DELETE"),
    route(f"{RM}/get", get, "GET"),
    route(f"{RM}/search", search, "GET"),
    route(f"{RM}/get-latest-versions", latest_versions, "POST"),
    route(f"{RM}/set-tag", set_model_tag, "POST"),
    route(f"{RM}/delete-tag", delete_model_tag, "DELETE"),
    route(f"{RM}/alias", set_alias, "POST"),
    route(f"{RM}/alias", delete_alias, "DELETE"),
    route(f"{RM}/alias", get_by_alias, "GET"),
    route(f"{MV}/create", create_version, "POST"),
    route(f"{MV}/update", update_version, "PATCH"),
    route(f"{MV}/transition-stage", transition_stage, "POST"),
    route(f"{MV}/delete", delete_version, "DELETE"),
    route(f"{MV}/get", get_version, "GET"),
    route(f"{MV}/search", search_versions, "GET"),
    route(f"{MV}/get-download-uri", download_uri, "GET"),
    route(f"{MV}/set-tag", set_version_tag, "POST"),
    route(f"{MV}/delete-tag", delete_version_tag, "DELETE"),
]
