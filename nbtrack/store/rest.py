"""``RestStore``: the Store protocol over an nbtrack server's HTTP API.

Routes and bodies are MLflow's (``/api/2.0/mlflow/…``) where MLflow has one,
and nbtrack's (``/api/2.0/nbtrack/…``, see the server's contract) for what
MLflow lacks: runs created under a client-chosen id (so a retried create is
safe), a run's last points and its end in one request, columnar metric
history, lineage, counts and purges. Input is validated here exactly as the
SQL store validates it, so a bad key or value fails with the same error
before any request is sent.

This module must not import SQLAlchemy: a REST-only client stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack import _validation as check
from nbtrack.entities import (
    CellExecution,
    DatasetInput,
    Experiment,
    Metric,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from nbtrack.errors import InvalidInput, NotFoundError, StoreError
from nbtrack.store import rest_json as j
from nbtrack.store._http import HttpSession, new_request_id
from nbtrack.store.base import Purge
from nbtrack.store.rest_batches import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
    encode_points,
    split_points,
    sub_request_id,
)
from nbtrack.store.rest_registry import RestRegistryMixin

if TYPE_CHECKING:
    from nbtrack.store.base import MetricPoint

__all__ = ["RestStore"]

_ML = "/api/2.0/mlflow"
_NB = "/api/2.0/nbtrack"
_EXPERIMENT_PAGE = 1000


class _NoLoggedModels:
    """Logged models are not carried over REST yet: each method says which operation failed.

    The server serves MLflow's ``logged-models`` routes from its own store; a
    REST client of nbtrack's own does not speak them yet.
    """

    def _unsupported(self, operation: str) -> StoreError:
        return StoreError(f"{operation} is not supported by the REST store yet")

    def create_logged_model(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("create_logged_model")

    def get_logged_model(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("get_logged_model")

    def update_logged_model(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("update_logged_model")

    def set_logged_model_tags(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("set_logged_model_tags")

    def log_logged_model_params(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("log_logged_model_params")

    def delete_logged_model_tag(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("delete_logged_model_tag")

    def delete_logged_model(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("delete_logged_model")

    def search_logged_models(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST yet: StoreError."""
        raise self._unsupported("search_logged_models")


class _NoSyncState:
    """``nbtrack sync`` keeps its state in the local store it syncs from, never in a
    server's: these raise StoreError naming the operation."""

    def get_sync_runs(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST: StoreError."""
        raise StoreError("get_sync_runs is not supported by the REST store")

    def save_sync_run(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST: StoreError."""
        raise StoreError("save_sync_run is not supported by the REST store")

    def get_sync_objects(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported over REST: StoreError."""
        raise StoreError("get_sync_objects is not supported by the REST store")

    def save_sync_object(self, *args: Any, **kwargs: Any) -> None:
        """Not supported over REST: StoreError."""
        raise StoreError("save_sync_object is not supported by the REST store")


class RestStore(RestRegistryMixin, _NoLoggedModels, _NoSyncState):
    """A store behind an nbtrack server (``http(s)://host:port``)."""

    #: The metric buffer sends this store's points in per-run batches with request ids.
    remote = True

    def __init__(self, base_url: str) -> None:
        self.location = base_url.rstrip("/")
        self.artifact_root = f"{self.location}/api/2.0/mlflow-artifacts/artifacts"
        self.http = HttpSession(self.location)

    def __repr__(self) -> str:
        return f"RestStore({self.location!r})"

    def artifact_repository(self, artifact_uri: str) -> Any:
        """Return the repository of a run's artifacts: the server's proxy or the URI itself."""
        from nbtrack.store.rest_artifacts import open_repository

        return open_repository(self.http, artifact_uri)

    # experiments ---------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id."""
        check.experiment_name(name)
        body: dict[str, Any] = {
            "name": name,
            "tags": [
                {"key": check.validate_key(k, "tag"), "value": check.tag_value(k, v)}
                for k, v in (tags or {}).items()
            ],
        }
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self.http.call("POST", f"{_ML}/experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment or raise NotFoundError."""
        out = self.http.call(
            "GET", f"{_ML}/experiments/get", params={"experiment_id": str(experiment_id)}
        )
        return j.experiment(out["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment called ``name``, or None."""
        try:
            out = self.http.call(
                "GET", f"{_ML}/experiments/get-by-name", params={"experiment_name": name}
            )
        except NotFoundError:
            return None
        return j.experiment(out["experiment"])

    def search_experiments(
        self,
        view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """List experiments matching MLflow's experiment filter, newest update first."""
        ViewType.stages(view_type)  # the same error as the SQL store for a bad view type
        found: list[Experiment] = []
        token: str | None = None
        while len(found) < max_results:
            body: dict[str, Any] = {
                "view_type": view_type,
                "max_results": min(max_results - len(found), _EXPERIMENT_PAGE),
            }
            if filter_string:
                body["filter"] = filter_string
            if order_by:
                body["order_by"] = list(order_by)
            if token:
                body["page_token"] = token
            out = self.http.call("POST", f"{_ML}/experiments/search", body)
            found += [j.experiment(e) for e in out.get("experiments", ())]
            token = out.get("next_page_token") or None
            if not token:
                break
        return found

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the bin."""
        self.http.call("POST", f"{_ML}/experiments/delete", {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        self.http.call("POST", f"{_ML}/experiments/restore", {"experiment_id": str(experiment_id)})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        check.experiment_name(new_name)
        body = {"experiment_id": str(experiment_id), "new_name": new_name}
        self.http.call("POST", f"{_ML}/experiments/update", body)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag."""
        check.validate_key(key, "tag")
        body = {
            "experiment_id": str(experiment_id),
            "key": key,
            "value": check.tag_value(key, value),
        }
        self.http.call("POST", f"{_ML}/experiments/set-experiment-tag", body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one experiment tag (MLflow's delete-experiment-tag)."""
        body = {"experiment_id": str(experiment_id), "key": key}
        self.http.call("POST", f"{_ML}/experiments/delete-experiment-tag", body)

    # runs ----------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run; the id is chosen here, so a retried create cannot make two."""
        tag_list = [
            {"key": check.validate_key(t.key, "tag"), "value": check.tag_value(t.key, t.value)}
            for t in tags
        ]
        body = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time,
            "tags": tag_list,
            "run_name": run_name,
            "run_id": run_id or new_request_id(),
        }
        return j.run(self.http.call("POST", f"{_NB}/runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs."""
        return j.run(self.http.call("GET", f"{_ML}/runs/get", params={"run_id": run_id})["run"])

    def get_run_info(self, run_id: str) -> RunInfo:
        """Return a run's info alone (the Client's writable check)."""
        out = self.http.call("GET", f"{_NB}/runs/get-info", params={"run_id": run_id})
        return j.run_info(out["run_info"])

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name."""
        if status is not None and status not in RunStatus.ALL:
            raise InvalidInput(f"Unknown run status {status!r}; use one of {RunStatus.ALL}")
        if run_name is not None and len(run_name) > check.MAX_RUN_NAME_LENGTH:
            raise InvalidInput(f"Run name is longer than {check.MAX_RUN_NAME_LENGTH} characters")
        body: dict[str, Any] = {"run_id": run_id}
        if status is not None:
            body["status"] = status
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        return j.run_info(self.http.call("POST", f"{_ML}/runs/update", body)["run_info"])

    def end_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        metric_points: Sequence[MetricPoint] = (),
        request_id: str | None = None,
    ) -> None:
        """Write a run's last points and set its final status.

        Points of other runs (the buffer drains everything) go first in
        log-batch requests; this run's points travel with the end itself.
        """
        if not RunStatus.is_terminated(status):
            raise InvalidInput(f"A run ends FINISHED, FAILED or KILLED, not {status!r}")
        rid = request_id or new_request_id()
        own = [p for p in metric_points if p[0] == run_id]
        others = [p for p in metric_points if p[0] != run_id]
        if others:
            self.log_metric_points(others, request_id=f"{rid[:16]}{'f' * 16}")
        body = {
            "run_id": run_id,
            "status": status,
            "end_time": end_time,
            "metrics": [j.metric_json(p[1], p[2], p[3], p[4]) for p in own],
        }
        self.http.call("POST", f"{_NB}/runs/end", body, request_id=rid)

    def delete_run(self, run_id: str) -> None:
        """Move a run to the bin."""
        self.http.call("POST", f"{_ML}/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        self.http.call("POST", f"{_ML}/runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> None:
        """Write metrics, params and tags of one run.

        Within MLflow's limits (1,000 metrics, 100 params, 100 tags) this is one
        request, all or nothing. A bigger batch goes in several requests, as
        MLflow's client sends it, params and tags first: everything is
        validated before the first one, but a refusal from the server (a param
        conflict past the first 100 params) leaves the earlier requests stored.
        With ``request_id`` the requests' ids derive from it, so a retried call
        stores nothing twice.
        """
        metric_rows = [
            j.metric_json(
                check.validate_key(m.key, "metric"),
                check.metric_value(m.key, m.value),
                int(m.timestamp),
                check.metric_step(m.step),
            )
            for m in metrics
        ]
        param_rows = [
            {"key": check.validate_key(p.key, "param"), "value": check.param_value(p.key, p.value)}
            for p in params
        ]
        tag_rows = [
            {"key": check.validate_key(t.key, "tag"), "value": check.tag_value(t.key, t.value)}
            for t in tags
        ]
        rid = request_id or new_request_id()
        bodies: list[dict[str, Any]] = []
        m = p = t = 0
        while not bodies or m < len(metric_rows) or p < len(param_rows) or t < len(tag_rows):
            # MLflow's limits: 100 params, 100 tags, 1,000 metrics, 1,000 entities in all.
            chunk_params = param_rows[p : p + MAX_PARAMS_PER_BATCH]
            chunk_tags = tag_rows[t : t + MAX_TAGS_PER_BATCH]
            room = MAX_METRICS_PER_BATCH - len(chunk_params) - len(chunk_tags)
            chunk_metrics = metric_rows[m : m + room]
            p, t, m = p + len(chunk_params), t + len(chunk_tags), m + len(chunk_metrics)
            bodies.append(
                {
                    "run_id": run_id,
                    "metrics": chunk_metrics,
                    "params": chunk_params,
                    "tags": chunk_tags,
                }
            )
        for i, body in enumerate(bodies):
            sub = sub_request_id(rid, i, len(bodies))
            self.http.call("POST", f"{_ML}/runs/log-batch", body, request_id=sub)

    def log_metric_points(
        self, points: Sequence[MetricPoint], request_id: str | None = None
    ) -> None:
        """Write points of any runs: one log-batch per run and chunk.

        With ``request_id`` (or a ``request_id`` attribute on ``points``, as the
        metric buffer's batches carry), the ids of the requests derive from it,
        so calling again with the same points and id stores nothing twice.
        """
        chunks = split_points(points)
        rid = request_id or getattr(points, "request_id", None) or new_request_id()
        for index, (run_id, chunk) in enumerate(chunks):
            sub = sub_request_id(rid, index, len(chunks))
            self.http.call(
                "POST",
                f"{_ML}/runs/log-batch",
                content=encode_points(run_id, chunk),
                request_id=sub,
            )

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag."""
        self.http.call("POST", f"{_ML}/runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, by step then timestamp."""
        return [Metric(key, v, ts, st) for st, ts, v in self.get_metric_points(run_id, key)]

    def get_metric_points(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Return one metric's ``(step, timestamp, value)`` tuples (one columnar request)."""
        out = self.http.call(
            "GET", f"{_NB}/metrics/get-points", params={"run_id": run_id, "metric_key": key}
        )
        values = [float(v) for v in out.get("values", ())]
        return list(zip(out.get("steps", ()), out.get("timestamps", ()), values, strict=True))

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[Run], str | None]:
        """Return one page of matching runs and the token of the next page."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results must be a positive integer, got {max_results!r}")
        ViewType.stages(run_view_type)
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": run_view_type,
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        out = self.http.call("POST", f"{_ML}/runs/search", body)
        return [j.run(r) for r in out.get("runs", ())], out.get("next_page_token") or None

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Link datasets to a run."""
        body = {"run_id": run_id, "datasets": [j.dataset_input_json(d) for d in datasets]}
        self.http.call("POST", f"{_ML}/runs/log-inputs", body)

    def purge_deleted(self, older_than: int | None = None, dry_run: bool = False) -> Purge:
        """Have the server purge binned runs and experiments (and their artifacts)."""
        body: dict[str, Any] = {"dry_run": bool(dry_run)}
        if older_than is not None:
            body["older_than"] = older_than
        out = self.http.call("POST", f"{_NB}/runs/purge", body)
        return Purge(
            runs=[(str(a), str(b)) for a, b in out.get("runs", ())],
            experiments=[(str(a), str(b)) for a, b in out.get("experiments", ())],
            failed=[(str(a), str(b)) for a, b in out.get("failed", ())],
        )

    def count_runs(self) -> int:
        """Return how many runs the store holds."""
        return int(self.http.call("GET", f"{_NB}/runs/count")["count"])

    # lineage -------------------------------------------------------------------

    def log_cell_executions(self, executions: Sequence[CellExecution]) -> None:
        """Append kernel cell executions to the lineage log, in order."""
        if executions:
            body = {"executions": [j.cell_execution_json(e) for e in executions]}
            self.http.call("POST", f"{_NB}/lineage/log", body)

    def get_cell_executions(
        self, session_id: str, max_results: int | None = None
    ) -> list[CellExecution]:
        """Return a kernel session's first ``max_results`` executions, in the order they ran."""
        out = self.http.call(
            "GET",
            f"{_NB}/lineage/get",
            params={"session_id": session_id, "max_results": max_results},
        )
        return [j.cell_execution(e) for e in out.get("executions", ())]
