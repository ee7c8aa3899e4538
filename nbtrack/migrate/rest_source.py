"""Reading an MLflow tracking server through its REST API (GET and search requests only).

Searches are MLflow's public ones (``experiments/search``, ``runs/search``,
``metrics/get-history``, ``logged-models/search``, ``registered-models/search``,
``model-versions/search``), paged with their tokens. Artifacts under
``mlflow-artifacts:/`` are read through the server's proxy with nbtrack's
REST artifact repository; any other artifact URI (a shared folder, ``s3://``)
is opened directly. The connection, retries and credentials are the REST
store's (``MLFLOW_TRACKING_TOKEN`` / ``_USERNAME`` / ``_PASSWORD`` apply).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nbtrack.entities import Experiment, LoggedModel, Metric, ModelVersion, RegisteredModel, Run
from nbtrack.errors import InvalidInput, NbtrackError
from nbtrack.migrate.sources import DELETED_STAGE

__all__ = ["RestSource"]

_ML = "/api/2.0/mlflow"
_PAGE = 1000
_HISTORY_PAGE = 25000
_PROMPT_FILTER = "tags.`mlflow.prompt.is_prompt` = 'true'"


class RestSource:
    """An MLflow (or nbtrack) tracking server at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        from nbtrack.store._http import HttpSession

        self.location = base_url.rstrip("/")
        self.http = HttpSession(self.location)
        try:
            self.http.call("POST", f"{_ML}/experiments/search", {"max_results": 1})
        except NbtrackError as exc:
            self.http.close()
            raise InvalidInput(
                f"{self.location} does not answer as an MLflow tracking server "
                f"(POST {_ML}/experiments/search: {exc})"
            ) from None

    def close(self) -> None:
        """Close the kept-alive connections."""
        self.http.close()

    def _pages(self, method: str, path: str, body: dict[str, Any], field: str) -> Iterator[Any]:
        token = None
        while True:
            request = dict(body, page_token=token) if token else dict(body)
            if method == "GET":
                out = self.http.call("GET", path, params=request)
            else:
                out = self.http.call(method, path, request)
            yield from out.get(field, ())
            token = out.get("next_page_token")
            if not token:
                return

    # -- experiments and runs ------------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones too."""
        from nbtrack.store import rest_json as j

        body = {"max_results": _PAGE, "view_type": "ALL"}
        found = [
            j.experiment(e)
            for e in self._pages("POST", f"{_ML}/experiments/search", body, "experiments")
        ]
        return sorted(found, key=lambda e: int(e.experiment_id) if e.experiment_id.isdigit() else 0)

    def count_runs(self, experiment_ids: list[str]) -> int:
        """How many runs the experiments hold (one search of ids per page)."""
        return sum(1 for e in experiment_ids for _ in self._run_bodies(e))

    def _run_bodies(self, experiment_id: str) -> Iterator[Any]:
        body = {
            "experiment_ids": [experiment_id],
            "run_view_type": "ALL",
            "max_results": _PAGE,
            "order_by": ["attributes.start_time ASC"],
        }
        yield from self._pages("POST", f"{_ML}/runs/search", body, "runs")

    def runs(self, experiment_id: str) -> Iterator[Run]:
        """Every run of an experiment, oldest first."""
        from nbtrack.store import rest_json as j

        for body in self._run_bodies(experiment_id):
            yield j.run(body)

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """One metric's history by step, timestamp, value."""
        from nbtrack.store import rest_json as j

        body = {"run_id": run_id, "metric_key": key, "max_results": _HISTORY_PAGE}
        path = f"{_ML}/metrics/get-history"
        points = [j.metric(m) for m in self._pages("GET", path, body, "metrics")]
        points.sort(key=lambda m: (m.step, m.timestamp, m.value))
        return points

    def artifacts(self, artifact_uri: str) -> Any:
        """The repository of a run's or model's artifacts: the proxy for ``mlflow-artifacts:``."""
        from nbtrack.store.rest_artifacts import open_repository

        return open_repository(self.http, artifact_uri)

    # -- logged models and the registry ---------------------------------------------------

    def logged_models(self, experiment_id: str) -> list[LoggedModel]:
        """The experiment's MLflow 3 logged models (none from a server without the route)."""
        body = {"experiment_ids": [experiment_id], "max_results": 100}
        try:
            found = list(self._pages("POST", f"{_ML}/logged-models/search", body, "models"))
        except NbtrackError:
            return []
        out = []
        for item in found:
            info, data = item.get("info", {}), item.get("data", {})
            out.append(
                LoggedModel(
                    model_id=info["model_id"],
                    experiment_id=str(info.get("experiment_id", experiment_id)),
                    name=info.get("name", ""),
                    artifact_location=info.get("artifact_uri", ""),
                    creation_timestamp=int(info.get("creation_timestamp_ms") or 0),
                    last_updated_timestamp=int(info.get("last_updated_timestamp_ms") or 0),
                    status=info.get("status", "LOGGED_MODEL_PENDING"),
                    status_message=info.get("status_message"),
                    model_type=info.get("model_type"),
                    source_run_id=info.get("source_run_id"),
                    tags={t["key"]: t.get("value", "") for t in info.get("tags", ())},
                    params={p["key"]: p.get("value", "") for p in data.get("params", ())},
                )
            )
        return sorted(out, key=lambda m: (m.creation_timestamp, m.model_id))

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model and prompt (an MLflow server leaves prompts out of a
        search unless the filter names their tag, so there are two searches)."""
        from nbtrack.store import rest_json as j

        path = f"{_ML}/registered-models/search"
        found: dict[str, RegisteredModel] = {}
        for extra in ({}, {"filter": _PROMPT_FILTER}):
            body = {"max_results": _PAGE, **extra}
            for item in self._pages("GET", path, body, "registered_models"):
                model = j.registered_model(item)
                found[model.name] = model
        return sorted(found.values(), key=lambda m: (m.creation_timestamp or 0, m.name))

    def model_versions(self, name: str) -> list[ModelVersion]:
        """The live versions of ``name`` (a model's or a prompt's) by number."""
        from nbtrack.store import rest_json as j

        escaped = name.replace("'", "\\'")
        path = f"{_ML}/model-versions/search"
        found: dict[int, ModelVersion] = {}
        for extra in ("", f" AND {_PROMPT_FILTER}"):
            body = {"filter": f"name='{escaped}'{extra}", "max_results": 10000}
            for item in self._pages("GET", path, body, "model_versions"):
                version = j.model_version(item)
                found[version.version] = version
        return sorted(
            (v for v in found.values() if v.current_stage != DELETED_STAGE),
            key=lambda v: v.version,
        )
