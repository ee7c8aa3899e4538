"""The module-level API (``nbt.start_run``, ``nbt.log_metric``…) over a per-thread run stack.

Names and behaviour follow MLflow's fluent API, so ``import nbtrack as mlflow``
runs common MLflow code. ``log_metric`` is the hot path: it validates,
stamps and queues a tuple, and returns in a few microseconds.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from nbtrack import _validation as check
from nbtrack import env
from nbtrack._gc import gc_paused
from nbtrack.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from nbtrack.errors import InvalidInput, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from nbtrack.tracking.client import Client

_local = threading.local()
_active_experiment_id: str | None = None
#: The active experiment's name and the store it was set in: after set_tracking_uri
#: the name (not the number, which means another experiment there) picks it again.
_active_experiment_name: str | None = None
_active_experiment_uri: str | None = None
_last_run_id: str | None = None
_env_run_attached = False
_clients: dict[str, Client] = {}
#: Called with a new run's tags before it is created (they may add tags), and with a run
#: before it ends (while it still accepts writes). How front ends that know more than
#: this layer (the kernel hook: lineage positions) mark runs started through this API.
#: A hook must not raise.
run_start_hooks: list[Callable[[dict[str, str]], None]] = []
run_end_hooks: list[Callable[[ActiveRun], None]] = []


def _client() -> Client:
    from nbtrack.config import get_tracking_uri
    from nbtrack.tracking.client import Client

    uri = get_tracking_uri()
    client = _clients.get(uri)
    if client is None:
        client = _clients[uri] = Client(uri)
    return client


def client() -> Client:
    """The ``Client`` of the tracking URI in force: the one the fluent API's runs use."""
    return _client()


def _stack() -> list[ActiveRun]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class ActiveRun(Run):
    """The run ``start_run`` returns; a context manager that ends it on exit."""

    def __init__(self, run: Run, client: Client) -> None:
        Run.__init__(self, run.info, run.data, run.inputs)
        self._client = client
        self._buffer = client._buffer
        self._run_id = run.info.run_id
        self._system_metrics: Any = None

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: object, tb: object
    ) -> Literal[False]:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        stack = _stack()
        if self in stack:
            # Nested runs left open inside the block end with the same status.
            while stack and stack[-1] is not self:
                end_run(status)
            end_run(status)
        return False


# experiments -------------------------------------------------------------------


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active for new runs, creating it (by name) if needed.

    The choice follows the tracking URI: after ``set_tracking_uri`` the next
    run goes to the experiment of the same *name* in the new store (created
    there if needed), never to whichever experiment has the same id.
    """
    global _active_experiment_id, _active_experiment_name, _active_experiment_uri
    client = _client()
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInput("Give exactly one of experiment_name or experiment_id")
    if experiment_id is not None:
        exp = client.get_experiment(str(experiment_id))
    else:
        found = client.get_experiment_by_name(experiment_name)  # type: ignore[arg-type]
        if found is None:
            from nbtrack.errors import AlreadyExistsError

            # Another process may create it between our lookup and insert.
            with contextlib.suppress(AlreadyExistsError):
                client.create_experiment(experiment_name)  # type: ignore[arg-type]
            found = client.get_experiment_by_name(experiment_name)  # type: ignore[arg-type]
            assert found is not None
        exp = found
    if exp.lifecycle_stage != "active":
        raise InvalidInput(
            f"Experiment {exp.name!r} is deleted; restore it (nbtrack experiments restore) "
            "or pick another name"
        )
    _active_experiment_id = exp.experiment_id
    _active_experiment_name, _active_experiment_uri = exp.name, client.tracking_uri
    return exp


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment and return its id."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Return an experiment by id."""
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Return an experiment by name, or None."""
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """List experiments, e.g. ``filter_string="name LIKE 'wine%'"``, newest update first."""
    return _client().search_experiments(view_type, max_results or 100_000, filter_string, order_by)


def set_experiment_tag(key: str, value: Any) -> None:
    """Tag the active experiment (as set by ``set_experiment``, else Default)."""
    _client().set_experiment_tag(_current_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    """Tag the active experiment with several tags."""
    client = _client()
    experiment_id = _current_experiment_id()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


def delete_experiment(experiment_id: str) -> None:
    """Move an experiment to the bin."""
    _client().delete_experiment(experiment_id)


def _current_experiment_id() -> str:
    if _active_experiment_id is not None:
        from nbtrack.config import get_tracking_uri

        if _active_experiment_uri == get_tracking_uri() or _active_experiment_name is None:
            return _active_experiment_id
        return _follow_experiment(_active_experiment_name)
    if os.environ.get(env.NBTRACK_EXPERIMENT_ID):
        return os.environ[env.NBTRACK_EXPERIMENT_ID]
    name = os.environ.get(env.NBTRACK_EXPERIMENT_NAME)
    if name:
        return set_experiment(name).experiment_id
    return "0"


def _follow_experiment(name: str) -> str:
    """Make the experiment called ``name`` in the store now in force the active one."""
    try:
        return set_experiment(name).experiment_id
    except InvalidInput as exc:
        raise InvalidInput(
            f"The active experiment {name!r} was set in another store; in this one: {exc}"
        ) from None


# runs --------------------------------------------------------------------------


#: How long a run announced in NBTRACK_RUN_ID may take to appear in the store.
_ANNOUNCED_RUN_WAIT_S = 30.0


def _await_announced_run(client: Client, run_id: str) -> None:
    """Wait until ``run_id`` exists: ``nbtrack run`` starts this process while creating it."""
    deadline = time.monotonic() + _ANNOUNCED_RUN_WAIT_S
    while True:
        try:
            client.get_run(run_id)
            return
        except NotFoundError:
            if time.monotonic() > deadline:
                raise NotFoundError(
                    f"Run {run_id} (from {env.NBTRACK_RUN_ID}) did not appear in the store "
                    f"within {_ANNOUNCED_RUN_WAIT_S:.0f} s"
                ) from None
            time.sleep(0.02)


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    parent_run_id: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start (or resume, with ``run_id``) a run and make it active; use it as a context manager.

    ``log_system_metrics=True`` (or env ``NBTRACK_SYSTEM_METRICS=1`` when None)
    samples CPU, memory and GPU use into ``system/*`` metrics until the run ends.
    """
    global _env_run_attached
    stack = _stack()
    if stack and not nested:
        raise InvalidInput(
            f"Run {stack[-1].info.run_id} is already active; end it with nbtrack.end_run() or "
            "start a nested run with start_run(nested=True)"
        )
    client = _client()
    if (
        run_id is None
        and not stack
        and not _env_run_attached
        and os.environ.get(env.NBTRACK_RUN_ID)
    ):
        run_id = os.environ[env.NBTRACK_RUN_ID]
        _env_run_attached = True
        _await_announced_run(client, run_id)
    user_tags = {k: check.tag_value(k, v) for k, v in (tags or {}).items()}
    if description is not None:
        user_tags["mlflow.note.content"] = description
    if run_id is not None:
        existing = client.get_run(run_id)
        if existing.info.lifecycle_stage != "active":
            raise InvalidInput(f"Run {run_id} is deleted; restore it before resuming it")
        client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
        if user_tags:
            client.log_batch(run_id, tags=[RunTag(k, v) for k, v in user_tags.items()])
        run = client.get_run(run_id)
    else:
        from nbtrack.tracking.context import system_tags

        parent = parent_run_id or (stack[-1].info.run_id if stack else None)
        all_tags = system_tags()
        if parent:
            # MLflow's own key too, so searches written for MLflow find child runs.
            all_tags["nbtrack.parent_run_id"] = all_tags["mlflow.parentRunId"] = parent
        all_tags.update(user_tags)
        for hook in run_start_hooks:
            hook(all_tags)
        from nbtrack.tracking.context import mlflow_tags

        # A source or user given as nbtrack.* tags (the kernel hook's notebook path)
        # is mirrored to MLflow's key, unless that key was given itself.
        for key, value in mlflow_tags(all_tags).items():
            if key not in user_tags:
                all_tags[key] = value
        run = client.create_run(
            experiment_id if experiment_id is not None else _current_experiment_id(),
            tags=all_tags,
            run_name=run_name,
        )
    active = ActiveRun(run, client)
    stack.append(active)
    from nbtrack.tracking.system_metrics import start_monitor

    active._system_metrics = start_monitor(active.info.run_id, client, log_system_metrics)
    return active


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the innermost active run with ``status`` (FINISHED by default)."""
    global _last_run_id
    stack = _stack()
    if not stack:
        return
    run = stack.pop()
    if run._system_metrics is not None:
        run._system_metrics.stop()
    for hook in run_end_hooks:
        hook(run)
    run._client.set_terminated(run.info.run_id, status)
    _last_run_id = run.info.run_id


def active_run() -> ActiveRun | None:
    """Return the innermost active run of this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """Return the active run, or else the last run ended in this process."""
    run = active_run()
    if run is not None:
        return _client().get_run(run.info.run_id)
    return _client().get_run(_last_run_id) if _last_run_id else None


def get_run(run_id: str) -> Run:
    """Return a run by id."""
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Move a run to the bin."""
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Bring a deleted run back."""
    _client().restore_run(run_id)


def _run_for_logging() -> ActiveRun:
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    return start_run()  # MLflow starts a run when none is active


# logging -----------------------------------------------------------------------


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Log a metric point; returns in microseconds (the point is written in the background)."""
    if run_id is not None:
        _client().log_metric(run_id, key, value, timestamp, step, bool(synchronous))
        return
    stack = getattr(_local, "stack", None)
    run = stack[-1] if stack else _run_for_logging()
    if key not in check._valid_keys:
        check.validate_key(key, "metric")
    if value.__class__ is not float:
        value = check.metric_value(key, value)
    if step is None:
        step = 0
    elif step.__class__ is not int:
        step = check.metric_step(step)
    run._buffer.add(
        (
            run._run_id,
            key,
            value,
            int(time.time() * 1000) if timestamp is None else int(timestamp),
            step,
        )
    )
    if synchronous:
        run._buffer.flush()


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Log several metrics at one step; all are validated before any is queued."""
    target = run_id or _run_for_logging().info.run_id
    client = _client()
    ts = int(time.time() * 1000) if timestamp is None else int(timestamp)
    st = check.metric_step(step)
    points = [
        (target, check.validate_key(k, "metric"), check.metric_value(k, v), ts, st)
        for k, v in metrics.items()
    ]
    if run_id is not None:
        client._check_writable(run_id)
    client._buffer.extend(points)
    if synchronous:
        client.flush()


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run; returns ``value``.

    Params, tags and artifacts are always written before the call returns, so
    MLflow's ``synchronous`` flag changes nothing here.
    """
    return _client().log_param(_run_for_logging().info.run_id, key, value)


def log_params(
    params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    """Log several params at once (all or none)."""
    target = run_id or _run_for_logging().info.run_id
    _client().log_batch(target, params=[Param(k, v) for k, v in params.items()])


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    """Set a tag on the active run."""
    _client().set_tag(_run_for_logging().info.run_id, key, value)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    """Set several tags on the active run (all or none)."""
    run_id = _run_for_logging().info.run_id
    _client().log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])


def delete_tag(key: str) -> None:
    """Remove a tag from the active run."""
    _client().delete_tag(_run_for_logging().info.run_id, key)


def log_input(dataset: Any, context: str | None = None, tags: dict[str, str] | None = None) -> None:
    """Record a dataset the active run used (an nbtrack ``Dataset`` or a pandas DataFrame)."""
    from nbtrack.tracking.datasets import as_dataset

    ds: Dataset = as_dataset(dataset)
    input_tags = dict(tags or {})
    if context:
        input_tags["mlflow.data.context"] = context
    _client().log_inputs(_run_for_logging().info.run_id, [DatasetInput(ds, input_tags)])


def flush() -> None:
    """Write every buffered metric point now."""
    from nbtrack.tracking.buffer import flush_all

    flush_all()


# artifacts ---------------------------------------------------------------------


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a file into the artifacts of the active run (or of ``run_id``)."""
    _client().log_artifact(run_id or _run_for_logging().info.run_id, local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a folder into the artifacts of the active run (or of ``run_id``)."""
    _client().log_artifacts(run_id or _run_for_logging().info.run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save text as an artifact of the active run (or of ``run_id``)."""
    _client().log_text(run_id or _run_for_logging().info.run_id, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON/YAML (by suffix) in the active run (or in ``run_id``)."""
    _client().log_dict(run_id or _run_for_logging().info.run_id, dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Save a matplotlib figure or altair chart in the active run."""
    _client().log_figure(_run_for_logging().info.run_id, figure, artifact_file)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
) -> None:
    """Save an image (PIL, numpy or ``nbt.Image``) in the active run.

    With ``artifact_file``, one file. With ``key`` (and ``step``), one image of
    a series, in MLflow's layout (``images/<key>+step+<n>+timestamp+<ms>+<uuid>.png``
    plus a ``.webp`` thumbnail, and the ``mlflow.loggedImages`` tag) so MLflow's
    UI shows the series.
    """
    from nbtrack.tracking.image_series import log_image_step

    run_id = _run_for_logging().info.run_id
    if (artifact_file is None) == (key is None):
        raise InvalidInput("log_image needs exactly one of artifact_file or key")
    if artifact_file is not None:
        _client().log_image(run_id, image, artifact_file)
    else:
        log_image_step(_client(), run_id, image, str(key), step or 0, timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a table (DataFrame or dict of columns) in the active run (or in ``run_id``)."""
    _client().log_table(run_id or _run_for_logging().info.run_id, data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """Return the active run's artifact URI (or a path inside it)."""
    uri = _run_for_logging().info.artifact_uri
    return f"{uri}/{artifact_path.lstrip('/')}" if artifact_path else uri


def list_artifacts(run_id: str, path: str | None = None) -> list[FileInfo]:
    """List a run's artifacts."""
    return _client().list_artifacts(run_id, path)


def download_artifacts(
    run_id: str, artifact_path: str = "", dst_path: str | os.PathLike[str] | None = None
) -> str:
    """Download a run's artifacts; return the local path."""
    return _client().download_artifacts(run_id, artifact_path, dst_path)


# search ------------------------------------------------------------------------


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Search runs of the given experiments (default: the active one).

    Returns a DataFrame with ``run_id``, ``metrics.<k>``, ``params.<k>``,
    ``tags.<k>``… columns, or a list of Run with ``output_format="list"``.
    """
    client = _client()
    ids = [str(i) for i in experiment_ids or []]
    for name in experiment_names or []:
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise NotFoundError(f"No experiment named {name!r}")
        ids.append(exp.experiment_id)
    if not ids:
        if search_all_experiments:
            ids = [e.experiment_id for e in client.search_experiments(ViewType.ALL)]
        else:
            ids = [_current_experiment_id()]
    if output_format not in ("pandas", "list"):
        raise InvalidInput(f"output_format must be 'pandas' or 'list', not {output_format!r}")
    # One pause over the pages and the frame: the collection that follows walks
    # the new objects once, not once per stage.
    with gc_paused():
        runs: list[Run] = []
        token = None
        while len(runs) < max_results:
            page = client.search_runs(
                ids,
                filter_string,
                run_view_type,
                min(max_results - len(runs), 50_000),
                order_by,
                token,
            )
            runs.extend(page)
            token = page.token
            if not token:
                break
        if output_format == "list":
            return runs
        from nbtrack.tracking.frames import runs_to_frame

        return runs_to_frame(runs)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Return every point of a metric."""
    return _client().get_metric_history(run_id, key)


def _end_runs_at_exit() -> None:
    # A script that crashed leaves sys.last_value; its runs end FAILED, others FINISHED.
    failed = getattr(sys, "last_value", None) is not None
    while _stack():
        try:
            end_run(RunStatus.FAILED if failed else RunStatus.FINISHED)
        except Exception:  # at exit, end what can be ended; a broken store must not hang us
            _stack().pop()


atexit.register(_end_runs_at_exit)
