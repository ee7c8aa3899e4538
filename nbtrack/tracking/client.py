"""``nbt.Client``: the one gateway to a store, with MlflowClient's method names.

Every front end (fluent API, magics, widgets, CLI, servers) goes through this
class. Metric points are buffered (see ``buffer.py``); every read that could
see them flushes first, so a process always reads its own writes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack import _validation as check
from nbtrack.entities import (
    CellExecution,
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from nbtrack.errors import NbtrackError, NotFoundError, RunNotActiveError
from nbtrack.tracking.buffer import buffer_for
from nbtrack.tracking.logged_models_client import LoggedModelClientMixin
from nbtrack.tracking.paged import PagedList
from nbtrack.tracking.registry_client import RegistryClientMixin

if TYPE_CHECKING:
    import os

    from nbtrack.store.artifacts import ArtifactRepository
    from nbtrack.store.base import Purge, Store

__all__ = ["Client", "PagedList"]

# Runs this process knows to be RUNNING: logging to them skips a status query.
_writable_runs: set[str] = set()


def _now_ms() -> int:
    return int(time.time() * 1000)


class Client(RegistryClientMixin, LoggedModelClientMixin):
    """Low-level access to one store.

    Parameters
    ----------
    tracking_uri:
        A folder, ``sqlite:///…``, ``postgresql://…``; None uses the URI in force
        (``set_tracking_uri`` > ``NBTRACK_TRACKING_URI`` > ``.nbtrack/``).
    artifact_root:
        Where new experiments keep artifacts (any fsspec URL); None uses
        ``NBTRACK_ARTIFACT_ROOT``, else the store's own folder.
    """

    def __init__(
        self, tracking_uri: str | os.PathLike[str] | None = None, artifact_root: str | None = None
    ) -> None:
        from nbtrack.config import get_artifact_root, get_tracking_uri
        from nbtrack.store.factory import open_store

        self.tracking_uri = str(tracking_uri) if tracking_uri is not None else get_tracking_uri()
        root = artifact_root or get_artifact_root()
        self.store: Store = open_store(self.tracking_uri, root)
        self._buffer = buffer_for(self.store)

    def __repr__(self) -> str:
        return f"Client({self.tracking_uri!r})"

    def flush(self) -> None:
        """Write buffered metric points of this store now."""
        self._buffer.flush()

    # experiments ---------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        """Create an experiment; return its id."""
        return self.store.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id (NotFoundError if unknown)."""
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return an experiment by name, or None."""
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """List experiments, e.g. ``filter_string="name LIKE 'wine%'"``, newest update first."""
        return self.store.search_experiments(view_type, max_results, filter_string, order_by)

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the bin."""
        self.store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        self.store.restore_experiment(str(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        self.store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set an experiment tag."""
        self.store.set_experiment_tag(str(experiment_id), key, value)

    # runs ----------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run; a name is generated when none is given.

        ``run_id`` (32 hex digits) lets a caller announce the run before it
        exists, as ``nbtrack run`` does for the process it starts.
        """
        from nbtrack.tracking.context import current_user
        from nbtrack.tracking.names import generate_run_name

        name = run_name or generate_run_name()
        tag_list = [RunTag(k, v) for k, v in (tags or {}).items() if k != "mlflow.runName"]
        tag_list.append(RunTag("mlflow.runName", name))
        run = self.store.create_run(
            str(experiment_id), current_user(), start_time or _now_ms(), tag_list, name, run_id
        )
        _writable_runs.add(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """Return a run with params, latest metrics, tags and inputs."""
        self.flush()
        return self.store.get_run(run_id)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status or name."""
        self.store.update_run_info(run_id, status=status, run_name=name)
        self._note_status(run_id, status)

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run: flush its metrics, then record the status and end time."""
        if not RunStatus.is_terminated(status):
            from nbtrack.errors import InvalidInput

            raise InvalidInput(f"set_terminated needs FINISHED, FAILED or KILLED, not {status!r}")
        # The run's last points and its end go together (see MetricBuffer.end_run).
        self._buffer.end_run(run_id, status, end_time or _now_ms())
        _writable_runs.discard(run_id)

    def _note_status(self, run_id: str, status: str | None) -> None:
        if status == RunStatus.RUNNING:
            _writable_runs.add(run_id)
        elif status is not None:
            _writable_runs.discard(run_id)

    def delete_run(self, run_id: str) -> None:
        """Move a run to the bin."""
        self.store.delete_run(run_id)
        _writable_runs.discard(run_id)

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        self.store.restore_run(run_id)

    def _check_writable(self, run_id: str) -> None:
        # nbtrack's guard, not the store's: a cell re-run after its run ended must not
        # add to the finished run unnoticed (README, "Rules"). The stores refuse only
        # deleted runs, as MLflow's do, so the tracking server takes what MLflow's takes.
        if run_id in _writable_runs:
            return
        info = self.store.get_run_info(run_id)
        if info.lifecycle_stage != "active":
            raise RunNotActiveError(run_id, "deleted")
        if RunStatus.is_terminated(info.status):
            raise RunNotActiveError(run_id, info.status)
        _writable_runs.add(run_id)

    # logging -------------------------------------------------------------------

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool = False,
    ) -> None:
        """Buffer one metric point (``synchronous=True`` writes it before returning)."""
        self._check_writable(run_id)
        point = (
            run_id,
            check.validate_key(key, "metric"),
            check.metric_value(key, value),
            _now_ms() if timestamp is None else int(timestamp),
            check.metric_step(step),
        )
        self._buffer.add(point)
        if synchronous:
            self.flush()

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log a param; returns ``value``. Params are immutable (ParamConflict)."""
        self._check_writable(run_id)
        self.store.log_batch(run_id, params=[Param(key, value)])
        return value

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a run tag (tags may be changed)."""
        self._check_writable(run_id)
        self.store.log_batch(run_id, tags=[RunTag(key, value)])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag."""
        self.store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool = True,
        request_id: str | None = None,
    ) -> None:
        """Write metrics, params and tags of a run atomically: all of them or none.

        ``request_id`` (a server passes its request's id) makes a retry of the
        same request write nothing twice.
        """
        self._check_writable(run_id)
        if request_id is None:
            self.store.log_batch(run_id, metrics, params, tags)
        else:
            self.store.log_batch(run_id, metrics, params, tags, request_id=request_id)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets a run used."""
        self._check_writable(run_id)
        self.store.log_inputs(run_id, datasets)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of a metric, ordered by step then time."""
        self.flush()
        return self.store.get_metric_history(run_id, key)

    def get_metric_points(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Return a metric's ``(step, timestamp, value)`` tuples by step then time.

        The same points as :meth:`get_metric_history`, without an object per
        point: for charts over long histories.
        """
        self.flush()
        return self.store.get_metric_points(run_id, key)

    # search --------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Return one page of runs matching ``filter_string``; ``.token`` leads to the next."""
        self.flush()
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        runs, token = self.store.search_runs(
            [str(i) for i in ids], filter_string, run_view_type, max_results, order_by, page_token
        )
        return PagedList(runs, token)

    # artifacts -----------------------------------------------------------------

    def _repo(self, run_id: str, writing: bool = True) -> ArtifactRepository:
        info: RunInfo = self.store.get_run_info(run_id)
        if writing and info.lifecycle_stage != "active":
            raise RunNotActiveError(run_id, "deleted")
        # The store knows how its runs' URIs are reached (a server proxies mlflow-artifacts:/).
        repo: ArtifactRepository = self.store.artifact_repository(info.artifact_uri)
        return repo

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file into the run's artifacts."""
        self._repo(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local folder's files into the run's artifacts."""
        self._repo(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` as an artifact file."""
        self._repo(run_id).write_text(artifact_file, text)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON or YAML (by the file's suffix)."""
        from nbtrack.tracking._artifact_payloads import dict_payload

        self._repo(run_id).write_bytes(artifact_file, dict_payload(dictionary, artifact_file))

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib figure or an altair chart."""
        from nbtrack.tracking._artifact_payloads import figure_payload

        self._repo(run_id).write_bytes(artifact_file, figure_payload(figure, artifact_file))

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> None:
        """Save a PIL image or a numpy array as an image file."""
        from nbtrack.tracking._artifact_payloads import image_payload

        self._repo(run_id).write_bytes(artifact_file, image_payload(image, artifact_file))

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a DataFrame or dict of columns (JSON in MLflow's layout, CSV or Parquet)."""
        from nbtrack.tracking._artifact_payloads import table_payload

        self._repo(run_id).write_bytes(artifact_file, table_payload(data, artifact_file))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """List a run's artifacts under ``path``."""
        return self._repo(run_id, writing=False).list_artifacts(path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy artifacts to a local folder; return the local path."""
        return self._repo(run_id, writing=False).download_artifacts(path, dst_path)

    def purge_deleted(self, older_than: int | None = None, dry_run: bool = False) -> Purge:
        """Purge binned runs and experiments and their artifact folders for good.

        ``older_than`` (ms since the epoch) keeps what was deleted later;
        ``dry_run`` only reports. Folders that cannot be removed are listed in
        the returned ``Purge.failed`` as (artifact_uri, reason).
        """
        purge = self.store.purge_deleted(older_than, dry_run)
        if not dry_run:
            for _, artifact_uri in purge.runs:
                try:
                    self.store.artifact_repository(artifact_uri).delete_all()
                except (OSError, NbtrackError) as exc:
                    purge.failed.append((artifact_uri, str(exc)))
        return purge

    def count_runs(self) -> int:
        """Return how many runs the store holds, binned ones included."""
        return self.store.count_runs()

    # lineage -------------------------------------------------------------------

    def log_cell_executions(self, executions: Sequence[CellExecution]) -> None:
        """Append kernel cell executions to the store's lineage log, in order."""
        self.store.log_cell_executions(executions)

    def get_cell_executions(
        self, session_id: str, max_results: int | None = None
    ) -> list[CellExecution]:
        """Return a kernel session's first ``max_results`` executions, in the order they ran."""
        return self.store.get_cell_executions(session_id, max_results)

    def get_run_or_none(self, run_id: str) -> Run | None:
        """Return a run, or None if it does not exist."""
        try:
            return self.get_run(run_id)
        except NotFoundError:
            return None
