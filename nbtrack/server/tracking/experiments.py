"""``/api/2.0/mlflow/experiments/*``: MLflow's experiment routes over ``Client``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.server.tracking._state import call, route, state
from nbtrack.server.tracking.bodies import INT, REQUIRED, STR, Enum, read_fields
from nbtrack.server.tracking.entities_json import experiment_json
from nbtrack.server.tracking.errors import json_response
from nbtrack.store.paging import decode_page_token, split_page

__all__ = ["ROUTES", "TAG", "VIEW_TYPE"]

P = "/api/2.0/mlflow/experiments"
TAG: dict[str, Any] = {"key": STR, "value": STR, REQUIRED: ("key",)}
#: MLflow's ViewType enum (numbers from 1).
VIEW_TYPE = Enum(("ACTIVE_ONLY", "DELETED_ONLY", "ALL"), first=1)
#: MLflow's cap on one search page of experiments or runs.
MAX_SEARCH_RESULTS = 50000

_CREATE = {"name": STR, "artifact_location": STR, "tags": [TAG]}
_SEARCH = {
    "max_results": INT,
    "page_token": STR,
    "filter": STR,
    "order_by": [STR],
    "view_type": VIEW_TYPE,
}
_ID = {"experiment_id": STR}
_UPDATE = {"experiment_id": STR, "new_name": STR}
_SET_TAG = {"experiment_id": STR, "key": STR, "value": STR}
_DELETE_TAG = {"experiment_id": STR, "key": STR}


def max_results(fields: dict[str, Any], default: int) -> int:
    """Return the request's ``max_results`` within MLflow's bounds."""
    n = fields.get("max_results", default)
    if n < 1 or n > MAX_SEARCH_RESULTS:
        raise InvalidInput(
            f"Invalid value {n} for parameter 'max_results' supplied: it must be between "
            f"1 and {MAX_SEARCH_RESULTS}"
        )
    return int(n)


async def create(request: Request) -> Response:
    """Create an experiment; ``{"experiment_id"}``."""
    f = await read_fields(request, _CREATE, ("name",))
    st = state(request)
    tags = {t["key"]: t.get("value", "") for t in f.get("tags", [])}
    location = st.uris.into(f.get("artifact_location"))
    exp_id = await call(st.client.create_experiment, f["name"], location or None, tags)
    return json_response({"experiment_id": exp_id})


async def search(request: Request) -> Response:
    """One page of experiments; ``{"experiments", "next_page_token"?}``."""
    f = await read_fields(request, _SEARCH)
    st = state(request)
    limit = max_results(f, 1000)
    offset = decode_page_token(f.get("page_token"))
    found = await call(
        st.client.search_experiments,
        f.get("view_type", "ACTIVE_ONLY"),
        offset + limit + 1,
        f.get("filter") or None,
        f.get("order_by") or None,
    )
    page, token = split_page(found[offset:], offset, limit)
    out: dict[str, Any] = {"experiments": [experiment_json(e, st.uris) for e in page]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


async def get(request: Request) -> Response:
    """One experiment by id; ``{"experiment"}``."""
    f = await read_fields(request, _ID, ("experiment_id",))
    st = state(request)
    exp = await call(st.client.get_experiment, f["experiment_id"])
    return json_response({"experiment": experiment_json(exp, st.uris)})


async def get_by_name(request: Request) -> Response:
    """One experiment by name; ``{"experiment"}`` or 404."""
    f = await read_fields(request, {"experiment_name": STR}, ("experiment_name",))
    st = state(request)
    exp = await call(st.client.get_experiment_by_name, f["experiment_name"])
    if exp is None:
        raise NotFoundError(f"Could not find experiment with name '{f['experiment_name']}'")
    return json_response({"experiment": experiment_json(exp, st.uris)})


async def delete(request: Request) -> Response:
    """Move an experiment to the bin."""
    f = await read_fields(request, _ID, ("experiment_id",))
    await call(state(request).client.delete_experiment, f["experiment_id"])
    return json_response({})


async def restore(request: Request) -> Response:
    """Bring a binned experiment back."""
    f = await read_fields(request, _ID, ("experiment_id",))
    await call(state(request).client.restore_experiment, f["experiment_id"])
    return json_response({})


async def update(request: Request) -> Response:
    """Rename an experiment."""
    f = await read_fields(request, _UPDATE, ("experiment_id", "new_name"))
    await call(state(request).client.rename_experiment, f["experiment_id"], f["new_name"])
    return json_response({})


async def set_tag(request: Request) -> Response:
    """Set one experiment tag."""
    f = await read_fields(request, _SET_TAG, ("experiment_id", "key"))
    client = state(request).client
    await call(client.set_experiment_tag, f["experiment_id"], f["key"], f.get("value", ""))
    return json_response({})


async def delete_tag(request: Request) -> Response:
    """Remove one experiment tag."""
    f = await read_fields(request, _DELETE_TAG, ("experiment_id", "key"))
    await call(state(request).client.delete_experiment_tag, f["experiment_id"], f["key"])
    return json_response({})


ROUTES = [
    route(f"{P}/create", create, "POST"),
    route(f"{P}/search", search, "POST", "GET"),
    route(f"{P}/get", get, "GET"),
    route(f"{P}/get-by-name", get_by_name, "GET"),
    route(f"{P}/delete", delete, "POST"),
    route(f"{P}/restore", restore, "POST"),
    route(f"{P}/update", update, "POST"),
    route(f"{P}/set-experiment-tag", set_tag, "POST"),
    route(f"{P}/delete-experiment-tag", delete_tag, "POST"),
]
