"""Bring one run's copy on a target up to date, from the sync state in the local store.

Nothing is read from the target to learn what it holds: the sync state says
what was sent (params and tags by digest, points per metric key up to which
(step, timestamp), artifact files by size and SHA-256, the status), and is
written right after each acknowledged write. A run whose digest (info,
params, tags, latest metrics, inputs) matches the state's is unchanged, and
costs no history read: the whole check of an unchanged store is one search
and one listing of artifact folders. A kill between a write and its record
only means the write is sent again: points, params and artifact files are
idempotent on both kinds of server, and each metric chunk carries a request
id derived from its content, so an nbtrack server stores a retried batch once.

The local store refuses writes to an ended run, so an ended run's params and
metrics cannot change after its last sync; its tags and artifacts can.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbtrack.entities import Metric, Param, Run, RunStatus, RunTag
from nbtrack.store.base import SyncRunState
from nbtrack.sync.target import SOURCE_RUN_TAG, Target

if TYPE_CHECKING:
    from nbtrack.store.base import Store

__all__ = ["PARENT_TAG", "RunContext", "RunResult", "run_digest", "sync_run", "walk_files"]

#: Points per log-batch: MLflow's limit, which an MLflow server enforces.
METRIC_CHUNK = 1000
_ENTITY_CHUNK = 100
PARENT_TAG = "mlflow.parentRunId"
# Dataset inputs are remembered among the tags sent under a key no tag can have.
_INPUTS_KEY = "\x00inputs"
_BLOCK = 1 << 20

#: ``progress(points, bytes)``: called after each write with what it sent.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the sync did (or, in a dry run, would do) to one run.

    ``action``: ``"unchanged"``, ``"created"``, ``"updated"`` or ``"conflict"``
    (``reason`` says why; nothing was written).
    """

    run_id: str
    action: str
    remote_run_id: str = ""
    points: int = 0
    bytes: int = 0
    params: int = 0
    tags: int = 0
    reason: str = ""


@dataclass(slots=True)
class RunContext:
    """What every run's sync shares: both stores, the state's key, and the id map."""

    source: Store
    target: Target
    target_key: str
    remote_ids: dict[str, str]
    dry_run: bool = False
    progress: Progress | None = None
    #: Per target experiment, runs an earlier (killed) sync made on an MLflow server.
    found_before: dict[str, dict[str, Run]] | None = None
    #: Artifact URIs of the runs created on the target by this sync, by their id there.
    artifact_uris: dict[str, str] = field(default_factory=dict)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def run_digest(run: Run) -> str:
    """Fingerprint what the sync copies of a run, except histories and artifact files."""
    info, data = run.info, run.data
    parts = [
        f"{info.status}|{info.end_time}|{info.run_name}|{info.experiment_id}",
        *(f"p{k}={v}" for k, v in sorted(data.params.items())),
        *(f"t{k}={v}" for k, v in sorted(data.tags.items())),
        *(f"m{k}={v}" for k, v in sorted(data.metrics.items())),
        *(f"i{d.dataset.name}/{d.dataset.digest}" for d in run.inputs.dataset_inputs),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _remote_tags(ctx: RunContext, run: Run) -> dict[str, str]:
    tags = dict(run.data.tags)
    if not ctx.target.keeps_run_ids:
        tags[SOURCE_RUN_TAG] = run.info.run_id
        parent = tags.get(PARENT_TAG)
        if parent in ctx.remote_ids:
            tags[PARENT_TAG] = ctx.remote_ids[parent]
    return tags


def _request_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def sync_run(
    ctx: RunContext, run: Run, state: SyncRunState | None, remote_experiment_id: str
) -> RunResult:
    """Send what the target lacks of ``run`` (nothing in a dry run) and record it."""
    run_id = run.info.run_id
    digest = run_digest(run)
    repo = ctx.source.artifact_repository(run.info.artifact_uri)
    files = walk_files(repo)
    if (
        state is not None
        and state.digest == digest
        and all(state.artifacts.get(p, (None,))[0] == size for p, size in files.items())
    ):
        return RunResult(run_id, "unchanged", state.remote_run_id)
    action = "updated"
    if state is None:
        opened = _open_remote(ctx, run, remote_experiment_id)
        if isinstance(opened, RunResult):
            return opened
        state = opened
        action = "created"
    return _RunWriter(ctx, run, state, repo, files, action).write(digest)


def _open_remote(ctx: RunContext, run: Run, experiment_id: str) -> SyncRunState | RunResult:
    """Find or create the target's copy of a run never recorded as synced."""
    target, run_id = ctx.target, run.info.run_id
    if target.keeps_run_ids:
        existing = target.get_run_or_none(run_id)
    else:
        if ctx.found_before is None:
            ctx.found_before = {}
        if experiment_id not in ctx.found_before and not ctx.dry_run:
            ctx.found_before[experiment_id] = target.runs_synced_before(experiment_id)
        existing = ctx.found_before.get(experiment_id, {}).get(run_id)
    if existing is not None:
        reason = _conflict(existing, run, experiment_id)
        if reason:
            return RunResult(run_id, "conflict", existing.info.run_id, reason=reason)
        # A copy an interrupted sync (or another tool) made: adopt it. What it already
        # holds is sent again, which both kinds of server store once.
        return SyncRunState(
            run_id,
            existing.info.run_id,
            experiment_id,
            status=existing.info.status,
            end_time=existing.info.end_time,
            params={k: _hash(v) for k, v in existing.data.params.items()},
        )
    tags = _remote_tags(ctx, run)
    remote_id = run_id
    if not ctx.dry_run:
        made = target.create_run(run, experiment_id, [RunTag(k, v) for k, v in tags.items()])
        remote_id = made.info.run_id
        ctx.artifact_uris[remote_id] = made.info.artifact_uri
    state = SyncRunState(
        run_id,
        remote_id,
        experiment_id,
        status=RunStatus.RUNNING,
        tags={k: _hash(v) for k, v in tags.items()},
    )
    if not ctx.dry_run:
        ctx.source.save_sync_run(ctx.target_key, state)
    return state


def _conflict(existing: Run, run: Run, experiment_id: str) -> str:
    if existing.info.experiment_id != str(experiment_id):
        return (
            f"run {run.info.run_id} exists on the target in experiment "
            f"{existing.info.experiment_id}, not {experiment_id}"
        )
    for key, value in run.data.params.items():
        theirs = existing.data.params.get(key)
        if theirs is not None and theirs != value:
            return (
                f"run {run.info.run_id} has param {key!r} = {theirs!r} on the target, not {value!r}"
            )
    return ""


def walk_files(repo: Any) -> dict[str, int]:
    """Return ``{relative path: size}`` of every file of an artifact repository."""
    files: dict[str, int] = {}
    stack: list[str | None] = [None]
    while stack:
        for info in repo.list_artifacts(stack.pop()):
            if info.is_dir:
                stack.append(info.path)
            else:
                files[info.path] = int(info.file_size or 0)
    return files


class _RunWriter:
    """The writes of one run's sync, each recorded in the state once acknowledged."""

    def __init__(
        self,
        ctx: RunContext,
        run: Run,
        state: SyncRunState,
        repo: Any,
        files: Mapping[str, int],
        action: str,
    ) -> None:
        self.ctx, self.run, self.state, self.repo = ctx, run, state, repo
        self.files, self.action = files, action
        self.remote = state.remote_run_id
        self.points = self.bytes = self.params = self.tags = 0
        self.reopened = False

    def _save(self, metric_keys: list[str] | None = None, paths: list[str] | None = None) -> None:
        if not self.ctx.dry_run:
            self.ctx.source.save_sync_run(
                self.ctx.target_key,
                self.state,
                metric_keys=[] if metric_keys is None else metric_keys,
                artifact_paths=[] if paths is None else paths,
            )

    def _writable(self) -> None:
        # An nbtrack server takes no writes to an ended run: reopen it, and set its
        # final status again at the end (the state now says RUNNING).
        if self.ctx.dry_run or self.reopened or not self.ctx.target.keeps_run_ids:
            return
        if self.state.status is not None and RunStatus.is_terminated(self.state.status):
            self.ctx.target.store.update_run_info(self.remote, status=RunStatus.RUNNING)
            self.state.status = RunStatus.RUNNING
            self._save()
        self.reopened = True

    def write(self, digest: str) -> RunResult:
        self._params_and_tags()
        self._inputs()
        self._metrics()
        self._artifacts()
        self._status()
        self.state.digest = digest
        self._save()
        return RunResult(
            self.run.info.run_id,
            self.action,
            self.remote,
            self.points,
            self.bytes,
            self.params,
            self.tags,
        )

    def _params_and_tags(self) -> None:
        state = self.state
        params = [
            Param(k, v) for k, v in self.run.data.params.items() if state.params.get(k) != _hash(v)
        ]
        tags_now = _remote_tags(self.ctx, self.run)
        tags = [RunTag(k, v) for k, v in tags_now.items() if state.tags.get(k) != _hash(v)]
        gone = [k for k in state.tags if k not in tags_now and k != _INPUTS_KEY]
        if not (params or tags or gone):
            return
        self._writable()
        store = self.ctx.target.store
        for i in range(0, max(len(params), len(tags)), _ENTITY_CHUNK):
            p, t = params[i : i + _ENTITY_CHUNK], tags[i : i + _ENTITY_CHUNK]
            if not self.ctx.dry_run:
                store.log_batch(self.remote, params=p, tags=t)
            state.params.update({x.key: _hash(x.value) for x in p})
            state.tags.update({x.key: _hash(x.value) for x in t})
            self._save()
        for key in gone:
            if not self.ctx.dry_run:
                store.delete_tag(self.remote, key)
            del state.tags[key]
        self._save()
        self.params, self.tags = len(params), len(tags) + len(gone)

    def _inputs(self) -> None:
        inputs = self.run.inputs.dataset_inputs
        mark = _hash("\n".join(sorted(f"{d.dataset.name}/{d.dataset.digest}" for d in inputs)))
        if not inputs or self.state.tags.get(_INPUTS_KEY) == mark:
            return
        self._writable()
        if not self.ctx.dry_run:
            self.ctx.target.store.log_inputs(self.remote, inputs)
        self.state.tags[_INPUTS_KEY] = mark
        self._save()

    def _new_points(self, key: str) -> tuple[int, list[tuple[int, int, float]]]:
        """``(points already sent, points to send)`` of one metric, in history order."""
        points = self.ctx.source.get_metric_points(self.run.info.run_id, key)
        sent = self.state.metrics.get(key)
        if not points or (
            sent is not None
            and sent[0] == len(points)
            and (sent[1], sent[2]) == (points[-1][0], points[-1][1])
        ):
            return len(points), []
        if sent is None:
            return 0, points
        new = [p for p in points if (p[0], p[1]) > (sent[1], sent[2])]
        if len(points) - len(new) != sent[0]:
            # A point came in before the last one sent: send the whole history again
            # (the target stores a point it already holds once).
            return 0, points
        return len(points) - len(new), new

    def _metrics(self) -> None:
        # Every key's new points in one stream, cut in log-batch-sized chunks: a run
        # of a few short histories is one request, not one per key.
        stream: list[tuple[str, int, tuple[int, int, float]]] = []
        for key in self.run.data.metrics:
            offset, new = self._new_points(key)
            stream += [(key, offset + i + 1, p) for i, p in enumerate(new)]
        if not stream:
            return
        self._writable()
        for start in range(0, len(stream), METRIC_CHUNK):
            chunk = stream[start : start + METRIC_CHUNK]
            if not self.ctx.dry_run:
                first_key, first_n, first = chunk[0]
                self.ctx.target.store.log_batch(
                    self.remote,
                    metrics=[Metric(k, v, ts, st) for k, _, (st, ts, v) in chunk],
                    request_id=_request_id(
                        self.ctx.target_key, self.remote, first_key, first_n, len(chunk), first
                    ),
                )
            for key, count, (step, ts, _) in chunk:
                self.state.metrics[key] = (count, step, ts)
            self._save(metric_keys=sorted({k for k, _, _ in chunk}))
            self.points += len(chunk)
            if self.ctx.progress is not None:
                self.ctx.progress(len(chunk), 0)

    def _artifacts(self) -> None:
        todo = sorted(
            p for p, size in self.files.items() if self.state.artifacts.get(p, (None,))[0] != size
        )
        if not todo:
            return
        if self.ctx.dry_run:
            self.bytes += sum(self.files[p] for p in todo)
            return
        target = self.ctx.target.store
        uri = (
            self.ctx.artifact_uris.get(self.remote) or target.get_run(self.remote).info.artifact_uri
        )
        remote_repo = target.artifact_repository(uri)
        with tempfile.TemporaryDirectory(prefix="nbtrack-sync-") as tmp:
            for rel in todo:
                size, sha = self._upload(rel, remote_repo, tmp)
                self.state.artifacts[rel] = (size, sha)
                self._save(paths=[rel])
                self.bytes += size
                if self.ctx.progress is not None:
                    self.ctx.progress(0, size)

    def _upload(self, rel: str, remote_repo: Any, tmp: str) -> tuple[int, str]:
        # A copy under the file's own name (log_artifact keeps the basename), hashed on the way.
        folder, _, name = rel.rpartition("/")
        staged = os.path.join(tmp, name)
        sha = hashlib.sha256()
        reader, _ = self.repo.open_read(rel)
        with reader, open(staged, "wb") as out:
            while block := reader.read(_BLOCK):
                sha.update(block)
                out.write(block)
        size = os.path.getsize(staged)
        remote_repo.log_artifact(staged, folder or None)
        os.remove(staged)
        return size, sha.hexdigest()

    def _status(self) -> None:
        info, state = self.run.info, self.state
        if (info.status, info.end_time) == (state.status, state.end_time):
            return
        if info.status == RunStatus.RUNNING and state.status == RunStatus.RUNNING:
            return
        if not self.ctx.dry_run:
            self.ctx.target.store.update_run_info(
                self.remote, status=info.status, end_time=info.end_time
            )
        state.status, state.end_time = info.status, info.end_time
        self._save()
