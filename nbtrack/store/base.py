"""The ``Store`` protocol: what every backend (SQL, REST) offers the tracking layer.

Experiment ids are strings at this boundary, as in MLflow; timestamps are
milliseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nbtrack.entities import (
    CellExecution,
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
    RunInfo,
    RunTag,
)

__all__ = ["MetricPoint", "Purge", "Store", "SyncRunState"]

#: (run_id, key, value, timestamp_ms, step): the buffer's compact form of a point.
MetricPoint = tuple[str, str, float, int, int]


@dataclass(frozen=True, slots=True)
class Purge:
    """What ``purge_deleted`` removed: (run_id, artifact_uri), (experiment_id, name) pairs,
    and the artifact folders that could not be deleted, as (artifact_uri, reason)."""

    runs: list[tuple[str, str]] = field(default_factory=list)
    experiments: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class SyncRunState:
    """What ``nbtrack sync`` has sent of one run to one target (the sync state's row).

    ``params`` and ``tags`` map a key to a digest of the value sent; ``metrics``
    maps a key to ``(points sent, max step, max timestamp)``; ``artifacts`` a
    path to ``(size, sha256)``. ``digest`` fingerprints the run as last sent
    in full (None while a sync of it is under way), so an unchanged run is
    recognised without reading its histories.
    """

    run_id: str
    remote_run_id: str
    remote_experiment_id: str
    status: str | None = None
    end_time: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    artifacts: dict[str, tuple[int, str]] = field(default_factory=dict)
    digest: str | None = None


class Store(Protocol):
    """Persistence of experiments, runs and their data."""

    location: str
    artifact_root: str

    def artifact_repository(self, artifact_uri: str) -> Any:
        """Return the repository of a run's artifacts (``ArtifactRepository``'s methods)."""
        ...

    # experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment or raise NotFoundError."""
        ...

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment called ``name``, or None."""
        ...

    def search_experiments(
        self,
        view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """List experiments matching MLflow's experiment filter, newest update first."""
        ...

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the bin."""
        ...

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        ...

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag."""
        ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one experiment tag; NotFoundError if the experiment has no such tag."""
        ...

    # runs
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run, with ``run_id`` when the caller chose it (32 hex digits)."""
        ...

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs."""
        ...

    def get_run_info(self, run_id: str) -> RunInfo:
        """Return a run's info alone (a cheap status check)."""
        ...

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name."""
        ...

    def end_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        metric_points: Sequence[MetricPoint] = (),
        request_id: str | None = None,
    ) -> None:
        """Write a run's last buffered points and set its final status, atomically.

        A ``request_id`` already seen makes this a no-op (a retried request).
        """
        ...

    def delete_run(self, run_id: str) -> None:
        """Move a run to the bin."""
        ...

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        ...

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> None:
        """Write metrics, params and tags of one run atomically (all or nothing).

        A ``request_id`` already seen makes this a no-op (a retried request).
        """
        ...

    def log_metric_points(
        self, points: Sequence[MetricPoint], request_id: str | None = None
    ) -> None:
        """Write already-validated points of any runs in one transaction (once per
        ``request_id``)."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag."""
        ...

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, by step then timestamp."""
        ...

    def get_metric_points(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Return one metric's ``(step, timestamp, value)`` tuples, by step then timestamp."""
        ...

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
        ...

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Link datasets to a run."""
        ...

    def purge_deleted(self, older_than: int | None = None, dry_run: bool = False) -> Purge:
        """Delete binned runs and experiments for good (or, ``dry_run``, only list them)."""
        ...

    def count_runs(self) -> int:
        """Return how many runs the store holds."""
        ...

    # lineage
    def log_cell_executions(self, executions: Sequence[CellExecution]) -> None:
        """Append kernel cell executions to the lineage log, in order."""
        ...

    def get_cell_executions(
        self, session_id: str, max_results: int | None = None
    ) -> list[CellExecution]:
        """Return a kernel session's first ``max_results`` executions, in the order they ran."""
        ...

    # model registry
    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create an empty registered model; AlreadyExistsError if the name is taken."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model or raise NotFoundError."""
        ...

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[RegisteredModel], str | None]:
        """Return one page of registered models matching a filter, and the next page's token.

        ``prompts``: False for models only, True for prompts only, None for both.
        """
        ...

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a registered model's description."""
        ...

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model, keeping its versions, tags and aliases."""
        ...

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with its versions, tags and aliases."""
        ...

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set one tag of a registered model."""
        ...

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag of a registered model."""
        ...

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        storage_location: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of ``name`` (distinct under concurrency)."""
        ...

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one model version or raise NotFoundError."""
        ...

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[ModelVersion], str | None]:
        """Return one page of model versions matching a filter, and the next page's token.

        ``prompts`` as for :meth:`search_registered_models`.
        """
        ...

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        """Set a model version's description."""
        ...

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to one of MLflow's legacy stages."""
        ...

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a model version and the aliases pointing at it."""
        ...

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set one tag of a model version."""
        ...

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag of a model version."""
        ...

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Return the newest version of each requested stage (all stages when None)."""
        ...

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at a version of ``name``."""
        ...

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at."""
        ...

    # logged models (MLflow 3)
    def create_logged_model(
        self,
        experiment_id: str,
        name: str,
        model_type: str | None = None,
        source_run_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model ``m-<hex>`` under ``<experiment artifacts>/models/``."""
        ...

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model; NotFoundError if there is none (or it is deleted)."""
        ...

    def update_logged_model(
        self,
        model_id: str,
        status: str | None = None,
        status_message: str | None = None,
        source_run_id: str | None = None,
    ) -> LoggedModel:
        """Set a logged model's status (finalize) and/or the run that produced it."""
        ...

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags of a logged model, replacing values of keys it already has."""
        ...

    def log_logged_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Add params to a logged model."""
        ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove one tag of a logged model."""
        ...

    def delete_logged_model(self, model_id: str) -> None:
        """Mark a logged model deleted (``get`` with ``allow_deleted`` still finds it)."""
        ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_terms: Sequence[tuple[str, str, str]] = (),
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        """Return one page of live logged models of some experiments, and the next token.

        ``filter_terms``: ``(field, "=" | "!=", value)`` joined by AND; ``order_by``:
        ``(field, ascending)``.
        """
        ...

    # sync state (what ``nbtrack sync`` sent where)
    def get_sync_runs(self, target: str) -> dict[str, SyncRunState]:
        """Return the sync state of every run ever sent to ``target``, by local run id."""
        ...

    def save_sync_run(
        self,
        target: str,
        state: SyncRunState,
        metric_keys: Sequence[str] | None = None,
        artifact_paths: Sequence[str] | None = None,
    ) -> None:
        """Record what was sent of one run, atomically.

        The run's row (params, tags, status, digest) is replaced; of its metrics
        and artifacts only ``metric_keys`` / ``artifact_paths`` are written (all
        of ``state``'s when None), so recording one metric chunk stays cheap.
        """
        ...

    def get_sync_objects(self, target: str, kind: str) -> dict[str, tuple[str, str | None]]:
        """Return ``{local id: (id on the target, digest)}`` of one kind of synced object
        (``"experiment"``, ``"registered_model"``, ``"model_version"``…)."""
        ...

    def save_sync_object(
        self, target: str, kind: str, local_id: str, remote_id: str, digest: str | None = None
    ) -> None:
        """Record that a local object exists on ``target`` as ``remote_id`` (replacing)."""
        ...
