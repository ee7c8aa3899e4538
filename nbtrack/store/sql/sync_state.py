"""The sync-state half of ``SqlStore``: what ``nbtrack sync`` has sent to each target.

Kept apart from ``store.py`` (one concept per module); ``SqlStore`` inherits
these methods. The tables (migration 0006) live here too, as ORM classes on
the store's metadata, because nothing else in the store reads them. Params
and tags sent are one JSON object per run row (key → digest of the value), so
loading the whole state of a target is three queries however many runs it has.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    BigInteger,
    ForeignKeyConstraint,
    String,
    Text,
    and_,
    delete,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from nbtrack.store.base import SyncRunState
from nbtrack.store.sql.schema import SqlBase

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

__all__ = ["SyncStateStoreMixin"]


class SqlSyncRun(SqlBase):
    """One run as sent to one target."""

    __tablename__ = "sync_runs"

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    remote_run_id: Mapped[str] = mapped_column(String(32), nullable=False)
    remote_experiment_id: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str | None] = mapped_column(String(20))
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    params: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str | None] = mapped_column(String(64))
    synced_time: Mapped[int] = mapped_column(BigInteger, nullable=False)


def _run_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["target", "run_id"], ["sync_runs.target", "sync_runs.run_id"], ondelete="CASCADE"
    )


class SqlSyncMetric(SqlBase):
    """How far one metric of a run has been sent to one target."""

    __tablename__ = "sync_metrics"
    __table_args__ = (_run_fk(),)

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_step: Mapped[int] = mapped_column(BigInteger, nullable=False)
    max_timestamp: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SqlSyncArtifact(SqlBase):
    """One artifact file of a run as sent to one target."""

    __tablename__ = "sync_artifacts"
    __table_args__ = (_run_fk(),)

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class SqlSyncObject(SqlBase):
    """An experiment, registered model or model version and its id on one target."""

    __tablename__ = "sync_objects"

    target: Mapped[str] = mapped_column(String(500), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    remote_id: Mapped[str] = mapped_column(String(500), nullable=False)
    digest: Mapped[str | None] = mapped_column(String(64))
    synced_time: Mapped[int] = mapped_column(BigInteger, nullable=False)


_runs = cast("Table", SqlSyncRun.__table__)
_metrics = cast("Table", SqlSyncMetric.__table__)
_artifacts = cast("Table", SqlSyncArtifact.__table__)
_objects = cast("Table", SqlSyncObject.__table__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class SyncStateStoreMixin:
    """Sync-state methods of :class:`~nbtrack.store.sql.store.SqlStore`."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Connection]: ...

        def _read(self) -> contextlib.AbstractContextManager[Connection]: ...

    def get_sync_runs(self, target: str) -> dict[str, SyncRunState]:
        """Return the sync state of every run ever sent to ``target``, by local run id."""
        with self._read() as conn:
            states = {
                r.run_id: SyncRunState(
                    run_id=r.run_id,
                    remote_run_id=r.remote_run_id,
                    remote_experiment_id=r.remote_experiment_id,
                    status=r.status,
                    end_time=r.end_time,
                    params=json.loads(r.params),
                    tags=json.loads(r.tags),
                    digest=r.digest,
                )
                for r in conn.execute(select(_runs).where(_runs.c.target == target))
            }
            for m in conn.execute(select(_metrics).where(_metrics.c.target == target)):
                states[m.run_id].metrics[m.key] = (m.points, m.max_step, m.max_timestamp)
            for a in conn.execute(select(_artifacts).where(_artifacts.c.target == target)):
                states[a.run_id].artifacts[a.path] = (a.size, a.sha256)
        return states

    def save_sync_run(
        self,
        target: str,
        state: SyncRunState,
        metric_keys: Sequence[str] | None = None,
        artifact_paths: Sequence[str] | None = None,
    ) -> None:
        """Record what was sent of one run, atomically (see the Store protocol)."""
        keys = list(state.metrics) if metric_keys is None else list(metric_keys)
        paths = list(state.artifacts) if artifact_paths is None else list(artifact_paths)
        this = and_(_runs.c.target == target, _runs.c.run_id == state.run_id)
        with self._write() as conn:
            row = {
                "remote_run_id": state.remote_run_id,
                "remote_experiment_id": state.remote_experiment_id,
                "status": state.status,
                "end_time": state.end_time,
                "params": json.dumps(state.params, sort_keys=True),
                "tags": json.dumps(state.tags, sort_keys=True),
                "digest": state.digest,
                "synced_time": _now_ms(),
            }
            if conn.execute(_runs.update().where(this).values(**row)).rowcount == 0:
                conn.execute(insert(_runs).values(target=target, run_id=state.run_id, **row))
            owner = {"target": target, "run_id": state.run_id}
            if keys:
                conn.execute(
                    delete(_metrics).where(
                        _metrics.c.target == target,
                        _metrics.c.run_id == state.run_id,
                        _metrics.c.key.in_(keys),
                    )
                )
                rows = [
                    {"key": k, "points": n, "max_step": st, "max_timestamp": ts, **owner}
                    for k in keys
                    if k in state.metrics
                    for n, st, ts in [state.metrics[k]]
                ]
                if rows:
                    conn.execute(insert(_metrics), rows)
            if paths:
                conn.execute(
                    delete(_artifacts).where(
                        _artifacts.c.target == target,
                        _artifacts.c.run_id == state.run_id,
                        _artifacts.c.path.in_(paths),
                    )
                )
                rows = [
                    {"path": p, "size": size, "sha256": sha, **owner}
                    for p in paths
                    if p in state.artifacts
                    for size, sha in [state.artifacts[p]]
                ]
                if rows:
                    conn.execute(insert(_artifacts), rows)

    def get_sync_objects(self, target: str, kind: str) -> dict[str, tuple[str, str | None]]:
        """Return ``{local id: (id on the target, digest)}`` of one kind of synced object."""
        with self._read() as conn:
            rows = conn.execute(
                select(_objects.c.local_id, _objects.c.remote_id, _objects.c.digest).where(
                    _objects.c.target == target, _objects.c.kind == kind
                )
            )
            return {r.local_id: (r.remote_id, r.digest) for r in rows}

    def save_sync_object(
        self, target: str, kind: str, local_id: str, remote_id: str, digest: str | None = None
    ) -> None:
        """Record that a local object exists on ``target`` as ``remote_id`` (replacing)."""
        this = and_(
            _objects.c.target == target, _objects.c.kind == kind, _objects.c.local_id == local_id
        )
        values = {"remote_id": remote_id, "digest": digest, "synced_time": _now_ms()}
        with self._write() as conn:
            if conn.execute(_objects.update().where(this).values(**values)).rowcount == 0:
                conn.execute(
                    insert(_objects).values(target=target, kind=kind, local_id=local_id, **values)
                )
