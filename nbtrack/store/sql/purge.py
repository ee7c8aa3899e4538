"""Garbage collection: binned runs and experiments deleted for good.

Runs are deleted in chunks, children first, in the caller's one transaction,
so a purge either happens whole or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from nbtrack.entities import LifecycleStage
from nbtrack.store.base import Purge
from nbtrack.store.sql import schema as s

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["purge_deleted"]

_CHUNK = 500


def purge_deleted(conn: Connection, older_than: int | None, dry_run: bool) -> Purge:
    """Delete (or with ``dry_run`` only list) binned runs and experiments, on ``conn``."""
    exp_deleted: Any = s.experiments.c.lifecycle_stage == LifecycleStage.DELETED
    run_deleted: Any = s.runs.c.lifecycle_stage == LifecycleStage.DELETED
    if older_than is not None:
        exp_deleted = exp_deleted & (s.experiments.c.last_update_time <= older_than)
        run_deleted = run_deleted & (s.runs.c.deleted_time <= older_than)
    doomed_exps = select(s.experiments.c.experiment_id).where(exp_deleted)
    where = run_deleted | s.runs.c.experiment_id.in_(doomed_exps)
    victims = conn.execute(select(s.runs.c.run_uuid, s.runs.c.artifact_uri).where(where)).all()
    exps = conn.execute(
        select(s.experiments.c.experiment_id, s.experiments.c.name).where(exp_deleted)
    ).all()
    purge = Purge([(r, a) for r, a in victims], [(str(e), n) for e, n in exps])
    if dry_run:
        return purge
    ids = [v[0] for v in victims]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for table in (s.metrics, s.latest_metrics, s.params, s.tags, s.run_inputs):
            conn.execute(delete(table).where(table.c.run_uuid.in_(chunk)))
        conn.execute(delete(s.runs).where(s.runs.c.run_uuid.in_(chunk)))
    exp_ids = [int(e) for e, _ in purge.experiments]
    if exp_ids:
        datasets_of = select(s.datasets.c.dataset_uuid).where(
            s.datasets.c.experiment_id.in_(exp_ids)
        )
        conn.execute(delete(s.run_inputs).where(s.run_inputs.c.dataset_uuid.in_(datasets_of)))
        for table in (s.datasets, s.experiment_tags, s.experiments):
            conn.execute(delete(table).where(table.c.experiment_id.in_(exp_ids)))
    return purge
