"""The SQL store's hot paths, on bare DBAPI connections: no SQLAlchemy imported.

A kernel's first tracked cell opens the store, creates a run, logs points and
ends it; importing SQLAlchemy for that would cost more than everything else
together. :class:`SqlStoreCore` holds what that path (and reading a run or a
metric history back) needs, written as plain SQL over
:mod:`nbtrack.store.sql.raw`. :class:`~nbtrack.store.sql.store.SqlStore`
inherits it and adds everything built on SQLAlchemy (searches, the registry,
logged models, the bin…).

A SQLite store is opened as a ``SqlStoreCore``; the first call of a method
only ``SqlStore`` has turns the object into a ``SqlStore`` in place (its
class is swapped: same object, same connections, same buffer), importing
SQLAlchemy then. So there is one store object per URI, whichever methods a
caller uses, and a notebook that only logs never pays for SQLAlchemy.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from nbtrack import _validation as check
from nbtrack.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.store.base import Store
from nbtrack.store.sql.engine import ensure_schema, open_engine, sqlite_path
from nbtrack.store.sql.raw import (
    Database,
    RawCursor,
    database_of,
    raw_read,
    raw_transaction,
    release_held,
)
from nbtrack.store.sql.reads import (
    RUN_INFO_COLUMNS,
    RUN_ROW_COLUMNS,
    load_inputs,
    load_run_data,
    run_info,
    run_info_from,
)
from nbtrack.store.sql.writes import (
    check_writable,
    claim_request,
    insert_run,
    write_metric_points,
    write_params,
    write_tags,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from nbtrack.store.artifacts import ArtifactRepository
    from nbtrack.store.base import MetricPoint
    from nbtrack.store.sql.store import SqlStore

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "SqlStoreCore",
    "int_id",
    "now_ms",
    "open_sql_store",
]

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
_EXPERIMENT_COLUMNS = (
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
)
_engine_lock = threading.Lock()


def now_ms() -> int:
    """Return the time now in milliseconds since the epoch."""
    return int(time.time() * 1000)


def int_id(experiment_id: str | int) -> int:
    """Return an experiment id as the database's integer (NotFoundError if it is none)."""
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise NotFoundError(f"No experiment with id {experiment_id!r}") from None


def _integrity_error() -> type[Exception]:
    # Evaluated only when an exception reaches the ``except`` naming it, so only a
    # failed write pays for importing SQLAlchemy (raw.py raises its classes).
    from sqlalchemy.exc import IntegrityError

    return IntegrityError


def open_sql_store(db_url: str, artifact_root: str) -> SqlStore:
    """Open the SQL store at ``db_url``: a SQLite file without importing SQLAlchemy."""
    if sqlite_path(db_url) is not None:
        # A SqlStore to its callers: it becomes one on the first call that needs it.
        return cast("SqlStore", SqlStoreCore(db_url, artifact_root))
    from nbtrack.store.sql.store import SqlStore

    return SqlStore(db_url, artifact_root)


class SqlStoreCore:
    """The store's hot paths over :class:`~nbtrack.store.sql.raw.Database` connections.

    ``db`` is where they connect: a :class:`~nbtrack.store.sql.sqlite_db.SqliteDatabase`
    for a SQLite file, else the engine's pool. ``engine`` (SQLAlchemy) is made
    on first use for SQLite and at once for other databases.
    """

    def __init__(self, db_url: str, artifact_root: str) -> None:
        self.location = db_url
        self.artifact_root = artifact_root.rstrip("/")
        self._engine: Engine | None = None
        self.db: Database = self._open(db_url)
        self._ensure_default_experiment()

    def _open(self, db_url: str) -> Database:
        db_file = sqlite_path(db_url)
        if db_file is None or str(db_file) == ":memory:":
            self._engine = open_engine(db_url)
            ensure_schema(self._engine, db_url)
            return database_of(self._engine)
        from nbtrack.store.sql.sqlite_db import SqliteDatabase, open_sqlite

        db = open_sqlite(db_file, db_url)
        if db is None:  # an older store: Alembic upgrades it, under the file lock
            self._engine = open_engine(db_url, prepared=True)
            ensure_schema(self._engine, db_url)
            db = SqliteDatabase(db_file)
        return db

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of this store (made, and SQLAlchemy imported, on first use)."""
        engine = self._engine
        if engine is None:
            with _engine_lock:
                if self._engine is None:
                    self._engine = open_engine(self.location, prepared=True)
                engine = self._engine
        return engine

    def close(self) -> None:
        """Close this process's connections to the database."""
        release_held(self.db)
        if self._engine is not None:
            release_held(self._engine)
            self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self.location!r})"

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Only the Store protocol's methods promote: a caller probing for an
            # attribute a store may have (``remote``, ``http``…) must not load SQLAlchemy.
            if type(self) is not SqlStoreCore or name.startswith("_") or not hasattr(Store, name):
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            from nbtrack.store.sql.store import SqlStore

            self.__class__ = SqlStore
            return getattr(self, name)

    def artifact_repository(self, artifact_uri: str) -> ArtifactRepository:
        """Return the repository of a run's artifacts: its URI, opened directly."""
        from nbtrack.store.artifacts import ArtifactRepository

        return ArtifactRepository(artifact_uri)

    def _ensure_default_experiment(self) -> None:
        with raw_read(self.db) as cur:
            if cur.execute("SELECT experiment_id FROM experiments LIMIT 1").fetchone():
                return
        now = now_ms()
        with raw_transaction(self.db) as cur:
            cur.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage, creation_time, last_update_time) VALUES (0, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    DEFAULT_EXPERIMENT_NAME,
                    f"{self.artifact_root}/0",
                    LifecycleStage.ACTIVE,
                    now,
                    now,
                ),
            )

    # experiments ---------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id (as a string)."""
        check.experiment_name(name)
        tag_rows = [
            (check.validate_key(k, "tag"), check.tag_value(k, v)) for k, v in (tags or {}).items()
        ]
        now = now_ms()
        taken = AlreadyExistsError(f"Experiment {name!r} already exists")
        try:
            with raw_transaction(self.db) as cur:
                # Checked inside the write transaction: on SQLite no other writer can
                # slip in between; on PostgreSQL the unique index still catches one.
                if cur.execute("SELECT 1 FROM experiments WHERE name = ?", (name,)).fetchone():
                    raise taken
                (exp_id,) = cur.execute(
                    "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                    "creation_time, last_update_time) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING experiment_id",
                    (name, artifact_location or "", LifecycleStage.ACTIVE, now, now),
                ).fetchone()
                if not artifact_location:
                    cur.execute(
                        "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
                        (f"{self.artifact_root}/{exp_id}", exp_id),
                    )
                cur.executemany(
                    "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
                    [(exp_id, k, v) for k, v in tag_rows],
                )
        except AlreadyExistsError:
            raise
        except _integrity_error():
            raise taken from None
        return str(exp_id)

    def _load_experiments(
        self, cur: RawCursor, where: str, params: Sequence[Any]
    ) -> list[Experiment]:
        rows = cur.execute(
            f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments WHERE {where} ORDER BY experiment_id",
            params,
        ).fetchall()
        if not rows:
            return []
        tags: dict[int, dict[str, str]] = {}
        ids = [r[0] for r in rows]
        for exp_id, key, value in cur.execute(
            "SELECT experiment_id, key, value FROM experiment_tags "
            f"WHERE experiment_id IN {cur.in_list(len(ids))}",
            ids,
        ).fetchall():
            tags.setdefault(exp_id, {})[key] = value
        return [
            Experiment(
                experiment_id=str(exp_id),
                name=name,
                artifact_location=location,
                lifecycle_stage=stage,
                tags=tags.get(exp_id, {}),
                creation_time=created,
                last_update_time=updated,
            )
            for exp_id, name, location, stage, created, updated in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment or raise NotFoundError."""
        with raw_read(self.db, snapshot=True) as cur:
            found = self._load_experiments(cur, "experiment_id = ?", (int_id(experiment_id),))
        if not found:
            raise NotFoundError(f"No experiment with id {experiment_id!r}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment called ``name``, or None."""
        with raw_read(self.db, snapshot=True) as cur:
            found = self._load_experiments(cur, "name = ?", (name,))
        return found[0] if found else None

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Set one experiment tag."""
        check.validate_key(key, "tag")
        value = check.tag_value(key, value)
        self.get_experiment(experiment_id)
        with raw_transaction(self.db) as cur:
            cur.execute(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                (int_id(experiment_id), key, value),
            )

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
        exp_id = int_id(experiment_id)
        if run_id is None:
            run_id = uuid.uuid4().hex
        elif not re.fullmatch(r"[0-9a-f]{32}", run_id):
            raise InvalidInput(f"A run id is 32 lowercase hex digits, got {run_id!r}")
        with raw_transaction(self.db) as cur:
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

    def _fetch_run(self, cur: RawCursor, run_id: str) -> Sequence[Any]:
        row = cur.execute(
            f"SELECT {RUN_ROW_COLUMNS} FROM runs WHERE run_uuid = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r}")
        return cast("Sequence[Any]", row)

    def get_run(self, run_id: str) -> Run:
        """Return a run with its params, latest metrics, tags and inputs."""
        with raw_read(self.db, snapshot=True) as cur:
            (run,) = load_run_data(cur, [self._fetch_run(cur, run_id)])
            run.inputs = load_inputs(cur, run_id)
        return run

    def get_run_info(self, run_id: str) -> RunInfo:
        """Return a run's info alone (one query; used to check a run is writable)."""
        with raw_read(self.db) as cur:
            return run_info(self._fetch_run(cur, run_id))

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
        with raw_transaction(self.db) as cur:
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
        with raw_transaction(self.db) as cur:
            if request_id is not None and not claim_request(cur, request_id):
                return
            write_metric_points(cur, metric_points)
            updated = cur.execute(
                "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                (status, end_time, run_id),
            ).rowcount
            if not updated:
                raise NotFoundError(f"No run with id {run_id!r}")

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
        with raw_transaction(self.db) as cur:
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
        with raw_transaction(self.db) as cur:
            if request_id is not None and not claim_request(cur, request_id):
                return
            write_metric_points(cur, points)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, by step then timestamp."""
        return [Metric(key, v, ts, st) for st, ts, v in self.get_metric_points(run_id, key)]

    def get_metric_points(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Return one metric's ``(step, timestamp, value)`` tuples, by step then timestamp.

        The history without an object per point: charts over 100,000 points
        read this.
        """
        nan = float("nan")
        with raw_read(self.db) as cur:
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
