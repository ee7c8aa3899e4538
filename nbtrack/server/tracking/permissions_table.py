"""What each tracking-server route needs under ``--auth``: one table beside the route table.

How to read it
--------------
``PERMISSIONS`` maps ``(HTTP method, path template)`` — the template exactly as
the Starlette route declares it, e.g. ``/api/2.0/mlflow/logged-models/{model_id}``
— to a :class:`Rule`:

``resource``
    What the request acts on, and so whose permission is checked:

    - ``"experiment"``: the experiment whose id is in ``field``;
    - ``"experiment_name"``: the experiment whose *name* is in ``field``;
    - ``"experiment_ids"``: every id of the list in ``field`` (search routes);
    - ``"run"``: the experiment of the run whose id is in ``field``
      (MLflow's older ``run_uuid`` is accepted in its place);
    - ``"logged_model"``: the experiment of the logged model whose id is in ``field``;
    - ``"run_ids"``: the experiments of every run in the list in ``field``;
    - ``"points"``: the experiments of every run named by ``field``, a list of
      ``[run_id, key, value, timestamp, step]`` (the first element of each);
    - ``"artifact_path"``: the experiment whose id is the first segment of the
      path in ``field`` (``<experiment_id>/<run_id>/artifacts/...``);
    - ``"registered_model"``: the registered model whose name is in ``field``;
    - ``"new_experiment"`` / ``"new_registered_model"``: a create; any
      authenticated user may do it, and the creator should get MANAGE on what
      was created (its id or name is in the response: ``experiment_id`` /
      ``registered_model.name``);
    - ``"none"``: nothing in particular: the user's default permission must
      reach ``level`` (lists that filter their results, lineage, counts);
    - ``"admin"``: admins only;
    - ``"public"``: no credentials needed (health checks).

``field``
    Where the id or name is: a path parameter of the template if one has that
    name, else a query parameter (GET and DELETE with a query string), else a
    top-level key of the JSON body. None for resources that need none.

``level``
    ``"READ"``, ``"EDIT"`` or ``"MANAGE"`` (MLflow's basic-auth levels; MANAGE
    implies EDIT implies READ). None for ``admin`` and ``public``.

A test walks the app's route table and asserts every (method, path) has a row,
so a new route cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PERMISSIONS", "Rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    """The permission one route needs: on which ``resource`` (found in ``field``), at which
    ``level``."""

    resource: str
    field: str | None
    level: str | None


_M = "/api/2.0/mlflow"
_N = "/api/2.0/nbtrack"
_A = "/api/2.0/mlflow-artifacts"

R, E, M = "READ", "EDIT", "MANAGE"


def _exp(level: str, field: str = "experiment_id") -> Rule:
    return Rule("experiment", field, level)


def _run(level: str) -> Rule:
    return Rule("run", "run_id", level)


def _model(level: str) -> Rule:
    return Rule("registered_model", "name", level)


def _logged(level: str) -> Rule:
    return Rule("logged_model", "model_id", level)


PUBLIC = Rule("public", None, None)
ADMIN = Rule("admin", None, None)

PERMISSIONS: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/version"): PUBLIC,
    # experiments
    ("POST", f"{_M}/experiments/create"): Rule("new_experiment", None, E),
    ("POST", f"{_M}/experiments/search"): Rule("none", None, R),
    ("GET", f"{_M}/experiments/search"): Rule("none", None, R),
    ("GET", f"{_M}/experiments/get"): _exp(R),
    ("GET", f"{_M}/experiments/get-by-name"): Rule("experiment_name", "experiment_name", R),
    ("POST", f"{_M}/experiments/delete"): _exp(M),
    ("POST", f"{_M}/experiments/restore"): _exp(M),
    ("POST", f"{_M}/experiments/update"): _exp(E),
    ("POST", f"{_M}/experiments/set-experiment-tag"): _exp(E),
    ("POST", f"{_M}/experiments/delete-experiment-tag"): _exp(E),
    # runs
    ("POST", f"{_M}/runs/create"): _exp(E),
    ("GET", f"{_M}/runs/get"): _run(R),
    ("POST", f"{_M}/runs/update"): _run(E),
    ("POST", f"{_M}/runs/delete"): _run(M),
    ("POST", f"{_M}/runs/restore"): _run(M),
    ("POST", f"{_M}/runs/log-metric"): _run(E),
    ("POST", f"{_M}/runs/log-parameter"): _run(E),
    ("POST", f"{_M}/runs/set-tag"): _run(E),
    ("POST", f"{_M}/runs/delete-tag"): _run(E),
    ("POST", f"{_M}/runs/log-batch"): _run(E),
    ("POST", f"{_M}/runs/log-inputs"): _run(E),
    ("POST", f"{_M}/runs/outputs"): _run(E),
    ("POST", f"{_M}/runs/search"): Rule("experiment_ids", "experiment_ids", R),
    ("GET", f"{_M}/metrics/get-history"): _run(R),
    ("GET", f"{_M}/metrics/get-history-bulk-interval"): Rule("run_ids", "run_ids", R),
    ("GET", f"{_M}/artifacts/list"): _run(R),
    # logged models (MLflow 3)
    ("POST", f"{_M}/logged-models"): _exp(E),
    ("GET", f"{_M}/logged-models/{{model_id}}"): _logged(R),
    ("PATCH", f"{_M}/logged-models/{{model_id}}"): _logged(E),
    ("DELETE", f"{_M}/logged-models/{{model_id}}"): _logged(M),
    ("POST", f"{_M}/logged-models/search"): Rule("experiment_ids", "experiment_ids", R),
    ("PATCH", f"{_M}/logged-models/{{model_id}}/tags"): _logged(E),
    ("DELETE", f"{_M}/logged-models/{{model_id}}/tags/{{tag_key}}"): _logged(E),
    ("POST", f"{_M}/logged-models/{{model_id}}/params"): _logged(E),
    ("GET", f"{_M}/logged-models/{{model_id}}/artifacts/directories"): _logged(R),
    # model registry
    ("POST", f"{_M}/registered-models/create"): Rule("new_registered_model", None, E),
    ("POST", f"{_M}/registered-models/rename"): _model(M),
    ("PATCH", f"{_M}/registered-models/update"): _model(E),
    ("DELETE", f"{_M}/registered-models/delete"): _model(M),
    ("GET", f"{_M}/registered-models/get"): _model(R),
    ("GET", f"{_M}/registered-models/search"): Rule("none", None, R),
    ("POST", f"{_M}/registered-models/get-latest-versions"): _model(R),
    ("POST", f"{_M}/registered-models/set-tag"): _model(E),
    ("DELETE", f"{_M}/registered-models/delete-tag"): _model(E),
    ("POST", f"{_M}/registered-models/alias"): _model(E),
    ("DELETE", f"{_M}/registered-models/alias"): _model(E),
    ("GET", f"{_M}/registered-models/alias"): _model(R),
    ("POST", f"{_M}/model-versions/create"): _model(E),
    ("PATCH", f"{_M}/model-versions/update"): _model(E),
    ("POST", f"{_M}/model-versions/transition-stage"): _model(E),
    ("DELETE", f"{_M}/model-versions/delete"): _model(M),
    ("GET", f"{_M}/model-versions/get"): _model(R),
    ("GET", f"{_M}/model-versions/search"): Rule("none", None, R),
    ("GET", f"{_M}/model-versions/get-download-uri"): _model(R),
    ("POST", f"{_M}/model-versions/set-tag"): _model(E),
    ("DELETE", f"{_M}/model-versions/delete-tag"): _model(E),
    # artifacts proxy (nbtrack/server/tracking/artifacts.py)
    ("GET", f"{_A}/artifacts/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", R),
    ("PUT", f"{_A}/artifacts/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", E),
    ("DELETE", f"{_A}/artifacts/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", E),
    ("GET", f"{_A}/artifacts"): Rule("artifact_path", "path", R),
    ("POST", f"{_A}/mpu/create/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", E),
    ("POST", f"{_A}/mpu/complete/{{artifact_path:path}}"): Rule(
        "artifact_path", "artifact_path", E
    ),
    ("POST", f"{_A}/mpu/abort/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", E),
    ("GET", f"{_A}/presigned/{{artifact_path:path}}"): Rule("artifact_path", "artifact_path", R),
    # nbtrack's own routes
    ("POST", f"{_N}/runs/create"): _exp(E),
    ("POST", f"{_N}/runs/end"): _run(E),
    ("GET", f"{_N}/runs/get-info"): _run(R),
    ("GET", f"{_N}/runs/count"): Rule("none", None, R),
    ("POST", f"{_N}/runs/purge"): ADMIN,
    ("POST", f"{_N}/metrics/log-points"): Rule("points", "points", E),
    ("GET", f"{_N}/metrics/get-points"): _run(R),
    # Any signed-in user's kernel hook logs its own session's cells: the log belongs to no
    # experiment, and refusing it would cost every non-admin their lineage.
    ("POST", f"{_N}/lineage/log"): Rule("none", None, R),
    ("GET", f"{_N}/lineage/get"): Rule("none", None, R),
    ("POST", f"{_N}/registered-models/search"): Rule("none", None, R),
    ("POST", f"{_N}/model-versions/search"): Rule("none", None, R),
    ("GET", f"{_N}/server-info"): Rule("none", None, R),
}
