"""``SqlStore``: the Store protocol over SQLAlchemy (SQLite by default, PostgreSQL shared).

Every write runs in one transaction (``BEGIN IMMEDIATE`` on SQLite), after all
input has been validated, so bad input never leaves anything partial behind.
The hot paths (runs, metric points, experiments by id or name) are inherited
from :class:`~nbtrack.store.sql.core.SqlStoreCore`, which runs them without
SQLAlchemy; this module holds what is built on it.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from nbtrack import _validation as check
from nbtrack._gc import gc_paused
from nbtrack.entities import (
    CellExecution,
    DatasetInput,
    Experiment,
    LifecycleStage,
    Run,
    ViewType,
)
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError, RunNotActiveError
from nbtrack.store.base import Purge
from nbtrack.store.paging import decode_page_token, split_page
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.core import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    SqlStoreCore,
    int_id,
    now_ms,
)
from nbtrack.store.sql.logged_models import LoggedModelStoreMixin
from nbtrack.store.sql.purge import purge_deleted
from nbtrack.store.sql.raw import cursor_of, raw_read, write_lock
from nbtrack.store.sql.reads import load_runs
from nbtrack.store.sql.registry_store import RegistryStoreMixin
from nbtrack.store.sql.sync_state import SyncStateStoreMixin
from nbtrack.store.sql.writes import check_writable

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

__all__ = ["DEFAULT_EXPERIMENT_ID", "DEFAULT_EXPERIMENT_NAME", "SqlStore"]


class SqlStore(SqlStoreCore, RegistryStoreMixin, LoggedModelStoreMixin, SyncStateStoreMixin):
    """A store in a SQL database, with artifacts under ``artifact_root``."""

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        attempts = 0
        while True:
            try:
                with (
                    write_lock(self.db),
                    self.engine.connect().execution_options(nbtrack_write=True) as conn,
                    conn.begin(),
                ):
                    yield conn
                return
            except OperationalError as exc:
                # The busy timeout already waited a minute; one more try covers a
                # lock released just as the timeout fired.
                attempts += 1
                if "locked" not in str(exc) or attempts > 1:
                    raise
                time.sleep(0.05)

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    def search_experiments(
        self,
        view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """List experiments matching MLflow's experiment filter, newest update first."""
        from nbtrack.store.sql.search import build_experiment_search_query

        query = build_experiment_search_query(
            filter_string or "", ViewType.stages(view_type), list(order_by or []), 0, max_results
        )
        with self._read() as conn:
            ids = [row.experiment_id for row in conn.execute(query)]
        if not ids:
            return []
        with raw_read(self.db, snapshot=True) as cur:
            where = f"experiment_id IN {cur.in_list(len(ids))}"
            found = {e.experiment_id: e for e in self._load_experiments(cur, where, ids)}
        return [found[str(i)] for i in ids if str(i) in found]

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        exp = self.get_experiment(experiment_id)
        if stage == LifecycleStage.DELETED and exp.experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidInput("The Default experiment cannot be deleted")
        with self._write() as conn:
            conn.execute(
                update(s.experiments)
                .where(s.experiments.c.experiment_id == int(exp.experiment_id))
                .values(lifecycle_stage=stage, last_update_time=now_ms())
            )

    def delete_experiment(self, experiment_id: str) -> None:
        """Move an experiment to the bin (its runs stay, hidden with it)."""
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        check.experiment_name(new_name)
        self.get_experiment(experiment_id)
        try:
            with self._write() as conn:
                conn.execute(
                    update(s.experiments)
                    .where(s.experiments.c.experiment_id == int_id(experiment_id))
                    .values(name=new_name, last_update_time=now_ms())
                )
        except IntegrityError:
            raise AlreadyExistsError(f"Experiment {new_name!r} already exists") from None

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one experiment tag; NotFoundError if the experiment has no such tag."""
        self.get_experiment(experiment_id)
        with self._write() as conn:
            gone = conn.execute(
                delete(s.experiment_tags).where(
                    s.experiment_tags.c.experiment_id == int_id(experiment_id),
                    s.experiment_tags.c.key == key,
                )
            ).rowcount
        if not gone:
            raise NotFoundError(f"Experiment {experiment_id} has no tag {key!r}")

    # runs ----------------------------------------------------------------------

    def _run_row(self, conn: Connection, run_id: str) -> Row[Any]:
        row = conn.execute(select(s.runs).where(s.runs.c.run_uuid == run_id)).first()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r}")
        return row

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self._write() as conn:
            self._run_row(conn, run_id)
            conn.execute(
                update(s.runs)
                .where(s.runs.c.run_uuid == run_id)
                .values(
                    lifecycle_stage=stage,
                    deleted_time=now_ms() if stage == LifecycleStage.DELETED else None,
                )
            )

    def delete_run(self, run_id: str) -> None:
        """Move a run to the bin (``nbtrack gc`` purges it)."""
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def _check_writable(self, conn: Connection, run_id: str) -> None:
        check_writable(cursor_of(conn), run_id)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a run tag; NotFoundError if the run has no such tag."""
        with self._write() as conn:
            self._check_writable_or_finished(conn, run_id)
            deleted = conn.execute(
                delete(s.tags).where(s.tags.c.run_uuid == run_id, s.tags.c.key == key)
            ).rowcount
        if not deleted:
            raise NotFoundError(f"Run {run_id} has no tag {key!r}")

    def _check_writable_or_finished(self, conn: Connection, run_id: str) -> None:
        row = self._run_row(conn, run_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise RunNotActiveError(run_id, "deleted")

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Link datasets to a run, creating each (experiment, name, digest) once."""
        with self._write() as conn:
            self._check_writable(conn, run_id)
            exp_id = conn.execute(
                select(s.runs.c.experiment_id).where(s.runs.c.run_uuid == run_id)
            ).scalar_one()
            for item in datasets:
                ds = item.dataset
                found = conn.execute(
                    select(s.datasets.c.dataset_uuid).where(
                        s.datasets.c.experiment_id == exp_id,
                        s.datasets.c.name == ds.name,
                        s.datasets.c.digest == ds.digest,
                    )
                ).scalar()
                if found is None:
                    found = uuid.uuid4().hex
                    conn.execute(
                        insert(s.datasets).values(
                            dataset_uuid=found,
                            experiment_id=exp_id,
                            name=ds.name,
                            digest=ds.digest,
                            source_type=ds.source_type,
                            source=ds.source,
                            schema=ds.schema,
                            profile=ds.profile,
                        )
                    )
                conn.execute(
                    text(
                        "INSERT INTO run_inputs (run_uuid, dataset_uuid, tags) VALUES (:r, :d, :t) "
                        "ON CONFLICT (run_uuid, dataset_uuid) DO UPDATE SET tags = excluded.tags"
                    ),
                    {"r": run_id, "d": found, "t": json.dumps(item.tags)},
                )

    # search --------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> tuple[list[Run], str | None]:
        """Return one page of matching runs (filtered and ordered in SQL) and the next token."""
        from nbtrack.store.sql.search import build_search_query

        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results must be a positive integer, got {max_results!r}")
        offset = decode_page_token(page_token)
        ids = [int_id(e) for e in experiment_ids]
        query = build_search_query(
            ids,
            filter_string or "",
            ViewType.stages(run_view_type),
            list(order_by or []),
            offset,
            max_results + 1,
        )
        with self._read() as conn, gc_paused():
            rows, token = split_page(list(conn.execute(query).all()), offset, max_results)
            return load_runs(conn, rows), token

    # garbage collection --------------------------------------------------------

    def purge_deleted(self, older_than: int | None = None, dry_run: bool = False) -> Purge:
        """Delete binned runs and experiments for good (``dry_run``: only list them).

        ``older_than`` (ms since the epoch) keeps what was deleted after that
        moment: runs by their deletion time, experiments by their last update
        (the deletion). A purged experiment takes all its runs with it.
        """
        with self._read() if dry_run else self._write() as conn:
            return purge_deleted(conn, older_than, dry_run)

    def count_runs(self) -> int:
        """Return how many runs the store holds (all stages)."""
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(s.runs)).scalar_one()

    def log_cell_executions(self, executions: Sequence[CellExecution]) -> None:
        """Append kernel cell executions to the lineage log."""
        from nbtrack.store.sql.lineage import log_cell_executions

        if executions:
            with self._write() as conn:
                log_cell_executions(conn, executions)

    def get_cell_executions(
        self, session_id: str, max_results: int | None = None
    ) -> list[CellExecution]:
        """Return a kernel session's executions in the order they ran."""
        from nbtrack.store.sql.lineage import get_cell_executions

        with self._read() as conn:
            return get_cell_executions(conn, session_id, max_results)
