"""The nbtrack REST API as plain functions over ``nbt.Client``: no web framework here.

Each function takes the client and the request's query values (strings) and
returns a JSON-ready dict, or raises an :class:`~nbtrack.errors.NbtrackError`
that :func:`error_body` turns into ``(status, {"error_code", "message"})``.
The Jupyter server extension (:mod:`nbtrack.server.jupyter`) and the
standalone server share these; ``openapi.yaml`` beside this file documents them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from nbtrack.errors import (
    InvalidInput,
    MetricValueError,
    NbtrackError,
    NotFoundError,
    RunNotActiveError,
)

if TYPE_CHECKING:
    from nbtrack.entities import Run
    from nbtrack.server.serving import ModelServers
    from nbtrack.tracking.client import Client

__all__ = [
    "DEFAULT_MAX_POINTS",
    "compare_runs",
    "error_body",
    "experiments",
    "export_notebook",
    "metric_history",
    "model_detail",
    "models",
    "notebook_filter",
    "run_artifacts",
    "run_detail",
    "run_lineage",
    "search_runs",
    "serve_model",
    "served_models",
    "stop_served_model",
]

DEFAULT_MAX_POINTS = 2000
_MAX_PAGE = 1000
_STATUS = {"RESOURCE_DOES_NOT_EXIST": 404, "RESOURCE_ALREADY_EXISTS": 409}


# Errors that are the caller's mistake: a bad value, a metric that is no number, a finished run.
_CALLER_MISTAKES = (InvalidInput, MetricValueError, RunNotActiveError)
#: The body of every 500 that is not nbtrack's own: the exception's text may hold
#: paths, SQL or secrets, so it goes to the server's log and not to the client.
INTERNAL_MESSAGE = "Internal server error; the server's log has the details"


def error_body(exc: BaseException) -> tuple[int, dict[str, str]]:
    """The HTTP status and JSON body of an error: 4xx for the caller's mistakes.

    nbtrack's own errors keep their message (it is written for the user,
    e.g. a store written by a newer nbtrack); any other exception is a 500
    whose body says only :data:`INTERNAL_MESSAGE`.
    """
    if isinstance(exc, NotFoundError):
        return 404, exc.to_dict()
    if isinstance(exc, _CALLER_MISTAKES):
        return _STATUS.get(exc.error_code, 400), exc.to_dict()
    if isinstance(exc, NbtrackError):
        return 500, exc.to_dict()
    return 500, {"error_code": "INTERNAL_ERROR", "message": INTERNAL_MESSAGE}


def _number(value: float) -> float | str:
    # JSON has no NaN or infinities; MLflow's REST API writes them as strings too.
    return value if math.isfinite(value) else str(value)


def _int(query: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    text = query.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"Query parameter {key!r} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"Query parameter {key!r} must be between {low} and {high}, got {value}")
    return value


def run_json(run: Run) -> dict[str, Any]:
    """A run as the API returns it: info (``RunInfo``'s fields), params, latest metrics, tags."""
    return {
        "info": asdict(run.info),
        "params": dict(run.data.params),
        "metrics": {k: _number(v) for k, v in run.data.metrics.items()},
        "tags": dict(run.data.tags),
    }


def experiments(client: Client, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET experiments``: every active experiment (``view=all`` adds deleted ones)."""
    view = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}.get(
        query.get("view", "active")
    )
    if view is None:
        raise InvalidInput(f"view must be active, deleted or all, got {query.get('view')!r}")
    found = client.search_experiments(view, max_results=100_000)
    return {
        "experiments": [
            {
                "experiment_id": e.experiment_id,
                "name": e.name,
                "lifecycle_stage": e.lifecycle_stage,
                "creation_time": e.creation_time,
                "last_update_time": e.last_update_time,
                "tags": dict(e.tags),
            }
            for e in found
        ]
    }


def search_runs(
    client: Client, query: Mapping[str, str], order_by: Sequence[str] = ()
) -> dict[str, Any]:
    """``GET runs``: one page of an experiment's runs, filtered and ordered in the store.

    Query: ``experiment_id`` (repeatable as a comma list), ``filter`` (the
    search grammar), ``order_by`` (repeatable), ``max_results`` (≤ 1000),
    ``page_token``, ``view``.
    """
    ids = [i for i in query.get("experiment_id", "").split(",") if i]
    if not ids:
        raise InvalidInput("Query parameter 'experiment_id' is required")
    view = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}.get(
        query.get("view", "active")
    )
    if view is None:
        raise InvalidInput(f"view must be active, deleted or all, got {query.get('view')!r}")
    page = client.search_runs(
        ids,
        query.get("filter", ""),
        run_view_type=view,
        max_results=_int(query, "max_results", 100, 1, _MAX_PAGE),
        order_by=list(order_by) or None,
        page_token=query.get("page_token") or None,
    )
    return {"runs": [run_json(r) for r in page], "next_page_token": page.token}


def run_detail(client: Client, run_id: str) -> dict[str, Any]:
    """``GET runs/{run_id}``: one run with its datasets."""
    run = client.get_run(run_id)
    body = run_json(run)
    body["inputs"] = [
        {"name": d.dataset.name, "digest": d.dataset.digest, "source": d.dataset.source}
        for d in run.inputs.dataset_inputs
    ]
    return body


def metric_history(
    client: Client, run_id: str, key: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """``GET runs/{run_id}/metrics/{key}``: the history, thinned to ``max_points`` in the server.

    The first, last, lowest and highest points always survive thinning.
    """
    from nbtrack.tracking.downsample import downsample_indices

    max_points = _int(query, "max_points", DEFAULT_MAX_POINTS, 4, 1_000_000)
    history = client.get_metric_points(run_id, key)  # an unknown run raises NotFound
    kept = downsample_indices([value for _, _, value in history], max_points)
    points = [[history[i][0], history[i][1], _number(history[i][2])] for i in kept]
    return {
        "key": key,
        "total": len(history),
        "downsampled": len(kept) < len(history),
        "points": points,
    }


def run_artifacts(client: Client, run_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET runs/{run_id}/artifacts?path=``: one folder level of a run's artifacts."""
    path = query.get("path") or None
    files = client.list_artifacts(run_id, path)
    return {
        "path": path or "",
        "files": [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in files],
    }


def run_lineage(client: Client, run_id: str) -> dict[str, Any]:
    """``GET runs/{run_id}/lineage``: the code that ran for the run, in order, and as a script."""
    from nbtrack.tracking.lineage import lineage, lineage_script

    executions = lineage(run_id, client)
    return {
        "script": lineage_script(executions),
        "executions": [
            {
                "cell_id": e.cell_id,
                "execution_count": e.execution_count,
                "source": e.source,
                "ok": e.ok,
                "start_time": e.start_time,
                "duration_ms": e.duration_ms,
            }
            for e in executions
        ],
    }


def models(client: Client, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET models``: registered models (``filter`` as in ``name LIKE 'iris%'``), paged."""
    page = client.search_registered_models(
        query.get("filter") or None,
        _int(query, "max_results", 100, 1, _MAX_PAGE),
        page_token=query.get("page_token") or None,
    )
    return {"models": [asdict(m) for m in page], "next_page_token": page.token}


def model_detail(client: Client, name: str) -> dict[str, Any]:
    """``GET models/{name}``: a registered model with all its versions, newest first."""
    model = client.get_registered_model(name)
    from nbtrack.store.filter_text import equals

    versions = client.search_model_versions(equals("name", name), order_by=["version_number DESC"])
    return {**asdict(model), "versions": [asdict(v) for v in versions]}


def notebook_filter(root: str, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET notebook-filter?path=``: the filter of the runs one notebook of the served folder made.

    ``%%track`` tags a run with the notebook's path as the kernel saw it:
    absolute, or relative to the served folder. The filter matches those
    whole paths exactly (``IN``), so ``track.ipynb`` does not find
    ``backtrack.ipynb`` nor another folder's ``track.ipynb``.
    """
    import os
    from pathlib import PurePosixPath

    from nbtrack.store.filter_text import quote

    path = query.get("path", "")
    if not path or PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
        raise InvalidInput("Query parameter 'path' must be a path inside the served folder")
    forms = [path]
    for base in (os.path.abspath(root), os.path.realpath(root)):
        full = os.path.join(base, *PurePosixPath(path).parts)
        if full not in forms:
            forms.append(full)
    values = ", ".join(quote(form) for form in forms)
    return {"filter": f"tags.`nbtrack.source.name` IN ({values})"}


def compare_runs(client: Client, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET compare?run_ids=a,b``: the runs, which params differ, and every metric key."""
    ids = [i for i in query.get("run_ids", "").split(",") if i]
    if len(ids) < 2:
        raise InvalidInput("Query parameter 'run_ids' needs at least two run ids, comma-separated")
    runs = [client.get_run(run_id) for run_id in ids]
    param_keys = sorted({k for r in runs for k in r.data.params})
    differing = [k for k in param_keys if len({r.data.params.get(k) for r in runs}) > 1]
    return {
        "runs": [run_json(r) for r in runs],
        "param_keys": param_keys,
        "params_differ": differing,
        "metric_keys": sorted({k for r in runs for k in r.data.metrics}),
    }


def export_notebook(root: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST export``: write a notebook of the served folder as an MLproject folder.

    Body: ``{"path": "train.ipynb", "out": "train-project"}``, both relative
    to the folder the server serves (``out`` defaults to ``<stem>-mlproject``
    beside the notebook); neither may leave it.
    """
    from pathlib import Path

    from nbtrack.projects import export_mlproject

    base = Path(root).resolve()

    def inside(value: Any, name: str) -> Path:
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"Field {name!r} must be a path relative to the served folder")
        path = (base / value).resolve()
        if path != base and base not in path.parents:
            raise InvalidInput(f"Field {name!r} leaves the served folder: {value!r}")
        return path

    notebook = inside(body.get("path"), "path")
    out_text = body.get("out") or str(
        Path(str(body.get("path"))).with_name(notebook.stem + "-mlproject")
    )
    out = inside(out_text, "out")
    project = export_mlproject(notebook, out)
    return {
        "out": str(out.relative_to(base)),
        "parameters": [
            {"name": p.name, "type": p.mlproject_type, "default": p.mlproject_default}
            for p in project.parameters
        ],
        "warnings": project.warnings,
    }


def served_models(servers: ModelServers) -> dict[str, Any]:
    """``GET serving``: the model versions this Jupyter server is serving, oldest first."""
    return {"servers": [s.to_dict() for s in servers.list()]}


def serve_model(servers: ModelServers, client: Client, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST serving``: serve ``{"name": ..., "version": ...}`` on a free port of 127.0.0.1.

    Answers once the scoring server accepts requests; a version already
    served answers with its running server.
    """
    return servers.start(client, body.get("name"), body.get("version")).to_dict()


def stop_served_model(servers: ModelServers, server_id: str) -> dict[str, Any]:
    """``DELETE serving/{server_id}``: stop one scoring server."""
    return {"stopped": servers.stop(server_id).to_dict()}
