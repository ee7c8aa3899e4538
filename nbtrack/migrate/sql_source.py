"""Reading an MLflow database (SQLite or PostgreSQL) through MLflow's SQL schema, read-only.

MLflow 3's tables are read with plain SQL: ``experiments``, ``experiment_tags``,
``runs``, ``params``, ``tags``, ``metrics``, ``latest_metrics``, ``datasets``,
``inputs``, ``input_tags``, ``logged_models`` (+ ``_params``, ``_tags``),
``registered_models``, ``registered_model_tags``, ``registered_model_aliases``,
``model_versions``, ``model_version_tags``. Older schemas without the
logged-model tables are read too (those parts are empty).

The database is never written: SQLite is opened ``mode=ro`` (no journal-mode
switch, no ``-wal`` or ``-shm`` created; a WAL-mode file whose ``-shm`` is
absent, so that no process has it open, is opened ``immutable=1``, since a
read-only connection could not create the ``-shm`` it needs), PostgreSQL in a
read-only session.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from nbtrack.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)
from nbtrack.errors import InvalidInput
from nbtrack.migrate.sources import DELETED_STAGE, LOGGED_MODEL_STATUS

__all__ = ["SqlSource"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics", "params", "latest_metrics"})
_NBTRACK_TABLES = frozenset({"cell_executions"})


def _what_is(location: str, tables: set[str]) -> str:
    """Name what a database that is not an MLflow store is, or return "" if it is one."""
    if tables & _NBTRACK_TABLES:
        return f"{location} is an nbtrack store, not an MLflow one: open it with nbtrack directly"
    if not tables:
        return f"{location} is an empty database, not an MLflow store"
    if tables >= _MLFLOW_TABLES:
        return ""
    shown = ", ".join(sorted(tables)[:8]) + (", …" if len(tables) > 8 else "")
    return f"{location} is another program's database (tables: {shown}), not an MLflow store"


class SqlSource:
    """An MLflow database; build it with :meth:`sqlite` or :meth:`postgres`."""

    def __init__(self, conn: Any, location: str, placeholder: str, tables: set[str]) -> None:
        self._conn = conn
        self.location = location
        self._ph = placeholder
        self._tables = tables
        self._histories: tuple[str, dict[str, list[Metric]]] | None = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def sqlite(cls, path: Path) -> SqlSource:
        """Open an MLflow SQLite file read-only.

        Raises
        ------
        InvalidInput
            The file is not an SQLite database, or not MLflow's (named).
        """
        with path.open("rb") as fh:
            header = fh.read(100)
        if not header.startswith(_SQLITE_MAGIC):
            raise InvalidInput(f"{path} is not an SQLite database, so not an MLflow store")
        uri = f"{path.resolve().as_uri()}?mode=ro"
        wal = len(header) > 19 and header[18] == 2
        if wal and not Path(f"{path}-shm").exists():
            uri += "&immutable=1"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise InvalidInput(f"{path} is an unreadable SQLite database ({exc})") from None
        problem = _what_is(str(path), tables)
        if problem:
            conn.close()
            raise InvalidInput(problem)
        return cls(conn, f"sqlite:///{path}", "?", tables)

    @classmethod
    def postgres(cls, uri: str) -> SqlSource:
        """Open an MLflow PostgreSQL database in a read-only session.

        Raises
        ------
        InvalidInput
            The database is not MLflow's (named), or cannot be reached.
        """
        import psycopg

        scheme, rest = uri.split("://", 1)
        dsn = f"postgresql://{rest}"
        try:
            conn = psycopg.connect(dsn)
        except psycopg.Error as exc:
            raise InvalidInput(f"Cannot open the PostgreSQL database {scheme}://…: {exc}") from None
        # Every transaction of this session is READ ONLY: PostgreSQL refuses any write.
        conn.read_only = True
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        }
        shown = dsn.split("@")[-1]
        problem = _what_is(f"postgresql://…@{shown}", tables)
        if problem:
            conn.close()
            raise InvalidInput(problem)
        return cls(conn, f"postgresql://…@{shown}", "%s", tables)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        if self._ph != "?":
            sql = sql.replace("?", self._ph)
        return list(self._conn.execute(sql, tuple(args)).fetchall())

    # -- experiments and runs ------------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones too, with tags."""
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, exp_id in self._rows(
            "SELECT key, value, experiment_id FROM experiment_tags"
        ):
            tags[str(exp_id)][key] = value or ""
        return [
            Experiment(str(i), name, loc or "", stage or "active", tags[str(i)], created, updated)
            for i, name, loc, stage, created, updated in self._rows(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                "last_update_time FROM experiments ORDER BY experiment_id"
            )
        ]

    def count_runs(self, experiment_ids: list[str]) -> int:
        """How many runs the experiments hold, deleted ones too."""
        return sum(
            self._rows("SELECT COUNT(*) FROM runs WHERE experiment_id = ?", (int(e),))[0][0]
            for e in experiment_ids
        )

    def _by_run(self, sql: str, exp_id: int) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(dict)
        for run_id, key, value in self._rows(sql, (exp_id,)):
            out[run_id][key] = value
        return out

    def runs(self, experiment_id: str) -> Iterator[Run]:
        """Every run of an experiment, oldest first, with params, tags, latest metrics, inputs."""
        exp = int(experiment_id)
        of_exp = "run_uuid IN (SELECT run_uuid FROM runs WHERE experiment_id = ?)"
        params = self._by_run(f"SELECT run_uuid, key, value FROM params WHERE {of_exp}", exp)
        tags = self._by_run(f"SELECT run_uuid, key, value FROM tags WHERE {of_exp}", exp)
        latest = self._by_run(
            f"SELECT run_uuid, key, CASE WHEN is_nan THEN NULL ELSE value END "
            f"FROM latest_metrics WHERE {of_exp}",
            exp,
        )
        inputs = self._inputs(exp)
        for row in self._rows(
            "SELECT run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage, "
            "artifact_uri FROM runs WHERE experiment_id = ? ORDER BY start_time, run_uuid",
            (exp,),
        ):
            run_id, name, user, status, start, end, stage, uri = row
            info = RunInfo(
                run_id, name or "", experiment_id, status, start, end, uri or "", stage, user or ""
            )
            metrics = {
                k: float("nan") if v is None else float(v) for k, v in latest[run_id].items()
            }
            data = RunData(metrics, {k: v or "" for k, v in params[run_id].items()}, tags[run_id])
            yield Run(info, data, RunInputs(inputs.get(run_id, [])))

    def _inputs(self, exp: int) -> dict[str, list[DatasetInput]]:
        if not {"inputs", "datasets"} <= self._tables:
            return {}
        input_tags: dict[str, dict[str, str]] = defaultdict(dict)
        if "input_tags" in self._tables:
            for input_id, name, value in self._rows(
                "SELECT t.input_uuid, t.name, t.value FROM input_tags t "
                "JOIN inputs i ON i.input_uuid = t.input_uuid "
                "JOIN datasets d ON d.dataset_uuid = i.source_id WHERE d.experiment_id = ?",
                (exp,),
            ):
                input_tags[input_id][name] = value
        out: dict[str, list[DatasetInput]] = defaultdict(list)
        for run_id, input_id, *ds in self._rows(
            "SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, "
            "d.dataset_source, d.dataset_schema, d.dataset_profile FROM inputs i "
            "JOIN datasets d ON d.dataset_uuid = i.source_id "
            "WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' "
            "AND d.experiment_id = ? ORDER BY i.input_uuid",
            (exp,),
        ):
            out[run_id].append(DatasetInput(Dataset(*ds), input_tags[input_id]))
        return out

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """One metric's history by step, timestamp, value (a run's keys are read at once)."""
        if self._histories is None or self._histories[0] != run_id:
            by_key: dict[str, list[Metric]] = defaultdict(list)
            nan = float("nan")
            for k, step, ts, value, is_nan in self._rows(
                "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? "
                "ORDER BY key, step, timestamp, value",
                (run_id,),
            ):
                by_key[k].append(Metric(k, nan if is_nan else value, ts, step))
            self._histories = (run_id, by_key)
        return self._histories[1].get(key, [])

    def artifacts(self, artifact_uri: str) -> Any:
        """The run's or model's artifacts, opened where MLflow put them (a folder, s3://…)."""
        from nbtrack.store.artifacts import ArtifactRepository

        return ArtifactRepository(artifact_uri)

    # -- logged models and the registry ---------------------------------------------------

    def logged_models(self, experiment_id: str) -> list[LoggedModel]:
        """The experiment's MLflow 3 logged models (none in schemas older than MLflow 3)."""
        if "logged_models" not in self._tables:
            return []
        exp = int(experiment_id)
        params = self._by_run(
            "SELECT model_id, param_key, param_value FROM logged_model_params "
            "WHERE experiment_id = ?",
            exp,
        )
        tags = self._by_run(
            "SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE experiment_id = ?",
            exp,
        )
        return [
            LoggedModel(
                model_id=m,
                experiment_id=experiment_id,
                name=name,
                artifact_location=loc,
                creation_timestamp=created,
                last_updated_timestamp=updated,
                status=LOGGED_MODEL_STATUS.get(int(status or 0), "LOGGED_MODEL_PENDING"),
                status_message=message,
                model_type=kind,
                source_run_id=run_id,
                lifecycle_stage=stage or "active",
                tags=tags[m],
                params=params[m],
            )
            for m, name, loc, created, updated, status, message, kind, run_id, stage in self._rows(
                "SELECT model_id, name, artifact_location, creation_timestamp_ms, "
                "last_updated_timestamp_ms, status, status_message, model_type, source_run_id, "
                "lifecycle_stage FROM logged_models WHERE experiment_id = ? "
                "ORDER BY creation_timestamp_ms, model_id",
                (exp,),
            )
        ]

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model and prompt, oldest first, with tags and aliases."""
        if "registered_models" not in self._tables:
            return []
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, name in self._rows("SELECT key, value, name FROM registered_model_tags"):
            tags[name][key] = value or ""
        aliases: dict[str, dict[str, int]] = defaultdict(dict)
        if "registered_model_aliases" in self._tables:
            for alias, version, name in self._rows(
                "SELECT alias, version, name FROM registered_model_aliases"
            ):
                aliases[name][alias] = int(version)
        return [
            RegisteredModel(
                name, created, updated, description or None, tags=tags[name], aliases=aliases[name]
            )
            for name, created, updated, description in self._rows(
                "SELECT name, creation_time, last_updated_time, description "
                "FROM registered_models ORDER BY creation_time, name"
            )
        ]

    def model_versions(self, name: str) -> list[ModelVersion]:
        """The live versions of ``name`` by number, with tags and aliases (MLflow's deleted
        versions, kept as rows in stage ``Deleted_Internal``, are left out)."""
        tags: dict[int, dict[str, str]] = defaultdict(dict)
        for key, value, version in self._rows(
            "SELECT key, value, version FROM model_version_tags WHERE name = ?", (name,)
        ):
            tags[int(version)][key] = value or ""
        aliases: dict[int, list[str]] = defaultdict(list)
        if "registered_model_aliases" in self._tables:
            for alias, version in self._rows(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (name,)
            ):
                aliases[int(version)].append(alias)
        out = []
        for row in self._rows(
            "SELECT version, creation_time, last_updated_time, description, user_id, "
            "current_stage, source, run_id, status, run_link FROM model_versions "
            "WHERE name = ? ORDER BY version",
            (name,),
        ):
            version, created, updated, description, user, stage, source, run_id, status, link = row
            if stage == DELETED_STAGE:
                continue
            out.append(
                ModelVersion(
                    name,
                    int(version),
                    created,
                    updated,
                    description or None,
                    user or None,
                    stage or "None",
                    source,
                    run_id or None,
                    status or "READY",
                    tags[int(version)],
                    sorted(aliases[int(version)]),
                    link or None,
                )
            )
        return out
