"""``SqlStore``: the Store protocol over SQLAlchemy (SQLite by default, PostgreSQL shared).

Every write runs in one transaction (``BEGIN IMMEDIATE`` on SQLite), after all
input has been validated, so bad input never leaves anything partial behind.
"""

from __future__ import annotations

import contextlib
import json
import re
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
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError, RunNotActiveError
from nbtrack.store.base import Purge
from nbtrack.store.paging import decode_page_token, split_page
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.engine import ensure_schema, open_engine
from nbtrack.store.sql.logged_models import LoggedModelStoreMixin
from nbtrack.store.sql.purge import purge_deleted
from nbtrack.store.sql.raw import cursor_of, raw_read, raw_transaction, write_lock
from nbtrack.store.sql.reads import (
    RUN_INFO_COLUMNS,
    load_inputs,
    load_runs,
    run_info,
    run_info_from,
)
from nbtrack.store.sql.registry_store import RegistryStoreMixin
from nbtrack.store.sql.sync_state import SyncStateStoreMixin
from nbtrack.store.sql.writes import (
    check_writable,
    claim_request,
    insert_run,
    write_metric_points,
    write_params,
    write_tags,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

    from nbtrack.store.artifacts import ArtifactRepository
    from nbtrack.store.base import MetricPoint

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _int_id(experiment_id: str | int) -> int:
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"No experiment with id {experiment_id!r}") from None


class SqlStore(RegistryStoreMixin, LoggedModelStoreMixin, SyncStateStoreMixin):
    """A store in a SQL database, with artifacts under ``artifact_root``."""

    def __init__(self, db_url: str, artifact_root: str) -> None:
        self.location = db_url
        self.artifact_root = artifact_root.rstrip("/")
        self.engine = open_engine(db_url)
        ensure_schema(self.engine, db_url)
        self._ensure_default_experiment()

    def __repr__(self) -> str:
        return f"SqlStore({self.location!r})"

    def artifact_repository(self, artifact_uri: str) -> ArtifactRepository:
        """Return the repository of a run's artifacts: its URI, opened directly."""
        from nbtrack.store.artifacts import ArtifactRepository

        return ArtifactRepository(artifact_uri)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        attempts = 0
        while True:
            try:
                with (
                    write_lock(self.engine),
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

    def _ensure_default_experiment(self) -> None:
        with self._read() as conn:
            if conn.execute(select(s.experiments.c.experiment_id).limit(1)).first():
                return
        now = _now_ms()
        with contextlib.suppress(IntegrityError), self._write() as conn:
            conn.execute(
                insert(s.experiments).values(
                    experiment_id=0,
                    name=DEFAULT_EXPERIMENT_NAME,
                    artifact_location=f"{self.artifact_root}/0",
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
            )

    # experiments ---------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id (as a string)."""
        check.experiment_name(name)
        tag_rows = [
            {"key": check.validate_key(k, "tag"), "value": check.tag_value(k, v)}
            for k, v in (tags or {}).items()
        ]
        now = _now_ms()
        try:
            with self._write() as conn:
                exp_id = conn.execute(
                    insert(s.experiments)
                    .values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                    .returning(s.experiments.c.experiment_id)
                ).scalar_one()
                if not artifact_location:
                    conn.execute(
                        update(s.experiments)
                        .where(s.experiments.c.experiment_id == exp_id)
                        .values(artifact_location=f"{self.artifact_root}/{exp_id}")
                    )
                if tag_rows:
                    conn.execute(
                        insert(s.experiment_tags),
                        [{**r, "experiment_id": exp_id} for r in tag_rows],
                    )
        except IntegrityError:
            raise AlreadyExistsError(f"Experiment {name!r} already exists") from None
        return str(exp_id)

    def _experiments(self, conn: Connection, where: Any) -> list[Experiment]:
        rows = conn.execute(
            select(s.experiments).where(where).order_by(s.experiments.c.experiment_id)
        ).all()
        if not rows:
            return []
        tags: dict[int, dict[str, str]] = {}
        ids = [r.experiment_id for r in rows]
        for exp_id, key, value in conn.execute(
            select(s.experiment_tags).where(s.experiment_tags.c.experiment_id.in_(ids))
        ):
            tags.setdefault(exp_id, {})[key] = value
        return [
            Experiment(
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                lifecycle_stage=r.lifecycle_stage,
                tags=tags.get(r.experiment_id, {}),
                creation_time=r.creation_time,
                last_update_time=r.last_update_time,
            )
            for r in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment or raise NotFoundError."""
        with self._read() as conn:
            found = self._experiments(conn, s.experiments.c.experiment_id == _int_id(experiment_id))
        if not found:
            raise NotFoundError(f"No experiment with id {experiment_id!r}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment called ``name``, or None."""
        with self._read() as conn:
            found = self._experiments(conn, s.experiments.c.name == name)
        return found[0] if found else None

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
            where = s.experiments.c.experiment_id.in_(ids)
            found = {e.experiment_id: e for e in self._experiments(conn, where)}
        return [found[str(i)] for i in ids]

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        exp = self.get_experiment(experiment_id)
        if stage == LifecycleStage.DELETED and exp.experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidInput("The Default experiment cannot be deleted")
        with self._write() as conn:
            conn.execute(
                update(s.experiments)
                .where(s.experiments.c.experiment_id == int(exp.experiment_id))
                .values(lifecycle_stage=stage, last_update_time=_now_ms())
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
                    .where(s.experiments.c.experiment_id == _int_id(experiment_id))
                    .values(name=new_name, last_update_time=_now_ms())
                )
        except IntegrityError:
            raise AlreadyExistsError(f"Experiment {new_name!r} already exists") from None

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag."""
        check.validate_key(key, "tag")
        value = check.tag_value(key, value)
        self.get_experiment(experiment_id)
        with self._write() as conn:
            conn.execute(
                text(
                    "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (:e, :k, :v) "
                    "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value"
                ),
                {"e": _int_id(experiment_id), "k": key, "v": value},
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove one experiment tag; NotFoundError if the experiment has no such tag."""
        self.get_experiment(experiment_id)
        with self._write() as conn:
            gone = conn.execute(
                text("DELETE FROM experiment_tags WHERE experiment_id = :e AND key = :k"),
                {"e": _int_id(experiment_id), "k": key},
            ).rowcount
        if not gone:
            raise NotFoundError(f"Experiment {experiment_id} has no tag {key!r}")

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
        """Create a RUNNING run in an active experiment, with ``run_id`` if given."""
        tags = [
            RunTag(check.validate_key(t.key, "tag"), check.tag_value(t.key, t.value)) for t in tags
        ]
        exp_id = _int_id(experiment_id)
        if run_id is None:
            run_id = uuid.uuid4().hex
        elif not re.fullmatch(r"[0-9a-f]{32}", run_id):
            raise InvalidInput(f"A run id is 32 lowercase hex digits, got {run_id!r}")
        with raw_transaction(self.engine) as cur:
            row = cur.execute(
                "SELECT artifact_location, lifecycle_stage FROM experiments "
                "WHERE experiment_id = ?",
                (exp_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"No experiment with id {experiment_id!r}")
            if row[1] != LifecycleStage.ACTIVE:
                raise InvalidInput(
                    f"Experiment {experiment_id} is deleted; restore it before creating runs in it"
                )
            artifact_uri = f"{row[0].rstrip('/')}/{run_id}/artifacts"
            insert_run(cur, run_id, run_name, exp_id, user_id, start_time, artifact_uri)
            write_tags(cur, run_id, tags)
        info = RunInfo(
            run_id=run_id,
            run_name=run_name,
            experiment_id=str(exp_id),
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            artifact_uri=artifact_uri,
            lifecycle_stage=LifecycleStage.ACTIVE,
            user_id=user_id,
        )
        return Run(info=info, data=RunData(tags={t.key: t.value for t in tags}))

    def _run_row(self, conn: Connection, run_id: str) -> Row[Any]:
        row = conn.execute(select(s.runs).where(s.runs.c.run_uuid == run_id)).first()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r}")
        return row

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs."""
        with self._read() as conn:
            row = self._run_row(conn, run_id)
            (run,) = load_runs(conn, [row])
            run.inputs = load_inputs(conn, run_id)
        return run

    def get_run_info(self, run_id: str) -> RunInfo:
        """Return a run's info alone (one query; used to check a run is writable)."""
        with self._read() as conn:
            return run_info(self._run_row(conn, run_id))

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status, end time or name; returns the new info."""
        values: dict[str, Any] = {}
        if status is not None:
            if status not in RunStatus.ALL:
                raise InvalidInput(f"Unknown run status {status!r}; use one of {RunStatus.ALL}")
            values["status"] = status
            values["end_time"] = end_time if RunStatus.is_terminated(status) else None
        elif end_time is not None:
            values["end_time"] = end_time
        if run_name is not None:
            if len(run_name) > check.MAX_RUN_NAME_LENGTH:
                raise InvalidInput(
                    f"Run name is longer than {check.MAX_RUN_NAME_LENGTH} characters"
                )
            values["name"] = run_name
        with raw_transaction(self.engine) as cur:
            row = cur.execute(f"SELECT {RUN_INFO_COLUMNS} FROM runs WHERE run_uuid = ?", (run_id,))
            row = row.fetchone()
            if row is None:
                raise NotFoundError(f"No run with id {run_id!r}")
            if values:
                cur.execute(
                    f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE run_uuid = ?",
                    (*values.values(), run_id),
                )
            if run_name is not None:
                write_tags(cur, run_id, [RunTag("mlflow.runName", run_name)])
        current = dict(zip(RUN_INFO_COLUMNS.split(", "), row, strict=True))
        current.update(values)
        return run_info_from(current)

    def end_run(
        self,
        run_id: str,
        status: str,
        end_time: int,
        metric_points: Sequence[MetricPoint] = (),
        request_id: str | None = None,
    ) -> None:
        """Write the last metric points and end the run, in one transaction.

        A ``request_id`` already recorded means this request was applied before:
        nothing is written.
        """
        if not RunStatus.is_terminated(status):
            raise InvalidInput(f"A run ends FINISHED, FAILED or KILLED, not {status!r}")
        with raw_transaction(self.engine) as cur:
            if request_id is not None and not claim_request(cur, request_id):
                return
            write_metric_points(cur, metric_points)
            updated = cur.execute(
                "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                (status, end_time, run_id),
            ).rowcount
            if not updated:
                raise NotFoundError(f"No run with id {run_id!r}")

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self._write() as conn:
            self._run_row(conn, run_id)
            conn.execute(
                update(s.runs)
                .where(s.runs.c.run_uuid == run_id)
                .values(
                    lifecycle_stage=stage,
                    deleted_time=_now_ms() if stage == LifecycleStage.DELETED else None,
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

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        request_id: str | None = None,
    ) -> None:
        """Validate everything, then write metrics, params and tags in one transaction.

        A ``request_id`` already recorded means this request was applied before:
        nothing is written (and the run's state is not checked again).
        """
        valid_keys = check._valid_keys
        points: list[MetricPoint] = [
            (
                run_id,
                m.key if m.key in valid_keys else check.validate_key(m.key, "metric"),
                m.value if m.value.__class__ is float else check.metric_value(m.key, m.value),
                m.timestamp if m.timestamp.__class__ is int else int(m.timestamp),
                m.step if m.step.__class__ is int else check.metric_step(m.step),
            )
            for m in metrics
        ]
        params = [
            Param(check.validate_key(p.key, "param"), check.param_value(p.key, p.value))
            for p in params
        ]
        tags = [
            RunTag(check.validate_key(t.key, "tag"), check.tag_value(t.key, t.value)) for t in tags
        ]
        with raw_transaction(self.engine) as cur:
            if request_id is not None and not claim_request(cur, request_id):
                return
            check_writable(cur, run_id)
            write_params(cur, run_id, params)
            write_tags(cur, run_id, tags)
            write_metric_points(cur, points)

    def log_metric_points(
        self, points: Sequence[MetricPoint], request_id: str | None = None
    ) -> None:
        """Write already-validated points of any runs in one transaction (once per
        ``request_id``)."""
        with raw_transaction(self.engine) as cur:
            if request_id is not None and not claim_request(cur, request_id):
                return
            write_metric_points(cur, points)

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

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, by step then timestamp."""
        return [Metric(key, v, ts, st) for st, ts, v in self.get_metric_points(run_id, key)]

    def get_metric_points(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Return one metric's ``(step, timestamp, value)`` tuples, by step then timestamp.

        The history without an object per point: charts over 100,000 points
        read this.
        """
        nan = float("nan")
        with raw_read(self.engine) as cur:
            rows = cur.execute(
                "SELECT step, timestamp, value, is_nan FROM metrics "
                "WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp",
                (run_id, key),
            ).fetchall()
            if (
                not rows
                and cur.execute("SELECT 1 FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
                is None
            ):
                raise NotFoundError(f"No run with id {run_id!r}")
        return [(st, ts, nan if isnan else v) for st, ts, v, isnan in rows]

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
        ids = [_int_id(e) for e in experiment_ids]
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
