"""Copy one run, keeping its id, into a target store: the primitive of import and sync.

``copy_run`` makes the target's copy of a run match the source's, sending
only what the target lacks, so it is safe to call again on the same run and
it completes a copy that an earlier, interrupted call left half done:

- the run is created with the source's id, user, name and start time;
- params the target lacks, tags that differ, and dataset inputs the target
  lacks are written;
- each metric's history is compared by its point count: the target holds the
  first *n* points of the source's history in (step, timestamp, value) order
  (every write is one atomic ``log_batch`` of at most ``METRIC_CHUNK``
  points), so only points ``n…`` are sent;
- artifact files the target lacks (or holds with another size) are streamed;
- the status and end time are set last, then the run is deleted if the
  source's is: a target run whose status, end time and lifecycle match the
  source's is complete, and the next call skips it without reading anything.

A run id that exists on the target with other content (a param of another
value, another experiment) is a conflict: reported, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbtrack.entities import LifecycleStage, Metric, Param, Run, RunStatus, RunTag

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["METRIC_CHUNK", "RunCopy", "copy_artifacts", "copy_run", "walk_artifacts"]

#: Points per write: MLflow's log_batch limit, which an MLflow server target enforces.
METRIC_CHUNK = 1000
#: Params and tags per write (MLflow's limits are 100 params and 1,000 entities).
_ENTITY_CHUNK = 100
_COPY_BLOCK = 1 << 20

#: ``progress(points, bytes)``: called after each write with what it sent.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunCopy:
    """What :func:`copy_run` did to one run.

    ``action`` is ``"skipped"`` (already complete on the target), ``"created"``,
    ``"completed"`` (an existing, unfinished copy brought up to date) or
    ``"conflict"`` (``reason`` says why; nothing was written).
    """

    run_id: str
    action: str
    points: int = 0
    bytes: int = 0
    reason: str = ""


def _is_complete(target: Run, source: Run) -> bool:
    t, s = target.info, source.info
    return (
        RunStatus.is_terminated(s.status)
        and t.status == s.status
        and t.end_time == s.end_time
        and t.lifecycle_stage == s.lifecycle_stage
    )


def _conflict(target: Run, source: Run, experiment_id: str) -> str:
    if target.info.experiment_id != str(experiment_id):
        return (
            f"run {source.info.run_id} exists on the target in experiment "
            f"{target.info.experiment_id}, not {experiment_id}"
        )
    for key, value in source.data.params.items():
        theirs = target.data.params.get(key)
        if theirs is not None and theirs != value:
            return (
                f"run {source.info.run_id} has param {key!r} = {theirs!r} on the target, "
                f"not {value!r}"
            )
    return ""


def walk_artifacts(repo: Any, path: str | None = None) -> dict[str, int]:
    """Return ``{relative path: size}`` of every file under ``path`` of an artifact repository."""
    files: dict[str, int] = {}
    stack = [path]
    while stack:
        for info in repo.list_artifacts(stack.pop()):
            if info.is_dir:
                stack.append(info.path)
            else:
                files[info.path] = int(info.file_size or 0)
    return files


def copy_artifacts(source_repo: Any, target_repo: Any, progress: Progress | None = None) -> int:
    """Copy every file of ``source_repo`` that ``target_repo`` lacks (or holds with another
    size) and return the bytes sent. Each file appears whole or not at all.

    Files stream in 1 MiB blocks when the source has ``open_read`` and the target
    ``open_write`` (local folders, object stores); otherwise each passes through
    a temporary file (``download_artifacts`` / ``log_artifact``, a server's proxy).
    """
    wanted = walk_artifacts(source_repo)
    if not wanted:
        return 0
    have = walk_artifacts(target_repo)
    sent = 0
    for rel, size in sorted(wanted.items()):
        if have.get(rel) == size:
            continue
        sent += _copy_file(source_repo, target_repo, rel)
        if progress is not None:
            progress(0, size)
    return sent


def _copy_file(source_repo: Any, target_repo: Any, rel: str) -> int:
    if hasattr(source_repo, "open_read") and hasattr(target_repo, "open_write"):
        reader, length = source_repo.open_read(rel)
        with reader, target_repo.open_write(rel, size=length) as writer:
            while block := reader.read(_COPY_BLOCK):
                writer.write(block)
        return int(length)
    import os
    import posixpath
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nbtrack-copy-") as tmp:
        local = source_repo.download_artifacts(rel, tmp)
        target_repo.log_artifact(local, posixpath.dirname(rel) or None)
        return os.path.getsize(local)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def copy_run(
    target: Client,
    run: Run,
    experiment_id: str,
    history: Callable[[str], Sequence[Metric]],
    artifacts: Any | None = None,
    progress: Progress | None = None,
) -> RunCopy:
    """Make the target's run ``run.info.run_id`` a copy of ``run``; see the module docstring.

    Parameters
    ----------
    target:
        The client of the store written to.
    run:
        The source run, as ``get_run`` returns it (params, tags, latest metrics
        naming the metric keys, dataset inputs).
    experiment_id:
        The target experiment the run belongs in (active, or it cannot be created).
    history:
        ``history(key)`` returns the source's full history of one metric, in the
        same order on every call (by step, timestamp, value).
    artifacts:
        The source run's artifact repository (``list_artifacts`` and
        ``open_read``), or None to copy no artifacts.
    progress:
        Called with ``(points, bytes)`` after each write.

    Returns
    -------
    RunCopy
    """
    store = target.store
    run_id = run.info.run_id
    existing = target.get_run_or_none(run_id)
    created = existing is None
    if existing is not None:
        if _is_complete(existing, run):
            return RunCopy(run_id, "skipped")
        reason = _conflict(existing, run, experiment_id)
        if reason:
            return RunCopy(run_id, "conflict", reason=reason)
        if existing.info.lifecycle_stage != LifecycleStage.ACTIVE:
            store.restore_run(run_id)
        if existing.info.status != RunStatus.RUNNING:
            # Writes go to running runs only; the final status is set again below.
            store.update_run_info(run_id, status=RunStatus.RUNNING)
    else:
        name = run.info.run_name or run.data.tags.get("mlflow.runName", "")
        start = run.info.start_time if run.info.start_time is not None else 0
        existing = store.create_run(experiment_id, run.info.user_id, start, [], name, run_id)
    points = _copy_data(target, existing, run, history, progress)
    sent = 0
    if artifacts is not None:
        target_repo = store.artifact_repository(existing.info.artifact_uri)
        sent = copy_artifacts(artifacts, target_repo, progress)
    _finish(target, run)
    return RunCopy(run_id, "created" if created else "completed", points, sent)


def _copy_data(
    target: Client,
    existing: Run,
    run: Run,
    history: Callable[[str], Sequence[Metric]],
    progress: Progress | None,
) -> int:
    store, run_id = target.store, run.info.run_id
    params = [Param(k, v) for k, v in run.data.params.items() if k not in existing.data.params]
    tags = [RunTag(k, v) for k, v in run.data.tags.items() if existing.data.tags.get(k) != v]
    for chunk in _chunks(params, _ENTITY_CHUNK):
        store.log_batch(run_id, params=chunk)
    for chunk in _chunks(tags, _ENTITY_CHUNK):
        store.log_batch(run_id, tags=chunk)
    have_inputs = {(d.dataset.name, d.dataset.digest) for d in existing.inputs.dataset_inputs}
    new_inputs = [
        d
        for d in run.inputs.dataset_inputs
        if (d.dataset.name, d.dataset.digest) not in have_inputs
    ]
    if new_inputs:
        store.log_inputs(run_id, new_inputs)
    sent = 0
    for key in run.data.metrics:
        points = history(key)
        done = len(store.get_metric_points(run_id, key)) if key in existing.data.metrics else 0
        for chunk in _chunks(points[done:], METRIC_CHUNK):
            store.log_batch(run_id, metrics=chunk)
            sent += len(chunk)
            if progress is not None:
                progress(len(chunk), 0)
    return sent


def _finish(target: Client, run: Run) -> None:
    """Set the source's status and end time, then its lifecycle: the marks of a complete copy."""
    store, info = target.store, run.info
    if info.status != RunStatus.RUNNING:
        store.update_run_info(info.run_id, status=info.status, end_time=info.end_time)
    if info.lifecycle_stage == LifecycleStage.DELETED:
        store.delete_run(info.run_id)
