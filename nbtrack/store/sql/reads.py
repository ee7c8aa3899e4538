"""Reading runs back: rows of ``runs`` into Run entities with their data.

Searches return up to tens of thousands of runs, so the data of a page is
read in chunks through the DBAPI cursor of the caller's transaction, params
and tags as one JSON object per run (a tenth of the Python objects that
(run, key, value) rows would cost, for exactly the same text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.entities import Dataset, DatasetInput, Run, RunData, RunInfo, RunInputs
from nbtrack.store.sql.raw import cursor_of

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

    from nbtrack.store.sql.raw import RawCursor

__all__ = [
    "RUN_INFO_COLUMNS",
    "RUN_ROW_COLUMNS",
    "load_data",
    "load_inputs",
    "load_run_data",
    "load_runs",
    "run_info",
    "run_info_from",
]

_CHUNK = 500  # ids per IN (...) when loading the data of many runs (SQLite)
_PG_CHUNK = 10_000  # ids per array parameter (PostgreSQL)

#: One JSON object per run and table: a tenth of the Python objects that
#: (run, key, value) rows cost, for exactly the same text. (Keys and values as
#: two separator-joined texts decode faster but group more slowly in SQLite:
#: no faster overall on 10,000 runs.)
_JSON_OBJECT_AGG = {"sqlite": "json_group_object", "postgresql": "json_object_agg"}


def _as_dict(value: str | dict[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


RUN_INFO_COLUMNS = (
    "run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage, user_id"
)


#: The first columns of ``runs`` in table order, as :func:`run_info` reads them.
RUN_ROW_COLUMNS = (
    "run_uuid, name, experiment_id, user_id, status, start_time, end_time, "
    "lifecycle_stage, artifact_uri"
)


def run_info_from(values: dict[str, Any]) -> RunInfo:
    """Build a RunInfo from column values by name."""
    return RunInfo(
        run_id=values["run_uuid"],
        run_name=values["name"],
        experiment_id=str(values["experiment_id"]),
        status=values["status"],
        start_time=values["start_time"],
        end_time=values["end_time"],
        artifact_uri=values["artifact_uri"],
        lifecycle_stage=values["lifecycle_stage"],
        user_id=values["user_id"],
    )


def run_info(row: Sequence[Any]) -> RunInfo:
    """Build a RunInfo from a ``runs`` row (columns in table order)."""
    # Positional access (columns in schema.runs order) is several times faster
    # than by name, which matters when a search returns 10,000 runs.
    run_id, name, exp_id, user_id, status, start, end, stage, artifact_uri = tuple(row)[:9]
    return RunInfo(run_id, name, str(exp_id), status, start, end, artifact_uri, stage, user_id)


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Return Run entities for ``runs`` rows, with params, tags and latest metrics."""
    # Tens of thousands of rows: read them through the DBAPI cursor of this
    # same transaction, skipping SQLAlchemy's per-row result machinery.
    return load_run_data(cursor_of(conn), rows)


def load_run_data(cur: RawCursor, rows: Sequence[Sequence[Any]]) -> list[Run]:
    """Return Run entities for rows of :data:`RUN_ROW_COLUMNS` (or whole ``runs`` rows).

    Works on a bare DBAPI cursor, so paths that never load SQLAlchemy read runs too.
    """
    runs = [Run(info=run_info(r), data=RunData()) for r in rows]
    load_data(cur, {run.info.run_id: run.data for run in runs})
    return runs


def load_data(cur: RawCursor, by_id: dict[str, RunData]) -> None:
    """Fill each run's params, tags and latest metrics (with their timestamp and step).

    Works on a bare DBAPI cursor (:class:`~nbtrack.store.sql.raw.RawCursor`), so
    paths that never load SQLAlchemy can read runs too.
    """
    ids = list(by_id)
    agg = _JSON_OBJECT_AGG["postgresql" if cur.postgres else "sqlite"]
    nan = float("nan")
    # PostgreSQL takes the ids as one array parameter (parsed once, planned as a
    # list: faster than hundreds of placeholders); SQLite as an IN list.
    size = _PG_CHUNK if cur.postgres else _CHUNK
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        args: list[Any] = [chunk] if cur.postgres else chunk
        where = "= ANY(?)" if cur.postgres else "IN " + cur.in_list(len(chunk))
        for run_id, params, tags in cur.execute(
            f"SELECT r.run_uuid, "
            f"(SELECT {agg}(key, value) FROM params WHERE run_uuid = r.run_uuid), "
            f"(SELECT {agg}(key, value) FROM tags WHERE run_uuid = r.run_uuid) "
            f"FROM runs r WHERE r.run_uuid {where}",
            args,
        ).fetchall():
            data = by_id[run_id]
            data.params = _as_dict(params)
            data.tags = _as_dict(tags)
        # Metrics stay rows: a float as text would lose digits.
        for run_id, key, value, isnan, timestamp, step in cur.execute(
            "SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics "
            f"WHERE run_uuid {where}",
            args,
        ).fetchall():
            data = by_id[run_id]
            data.metrics[key] = nan if isnan else value
            data.metric_times[key] = (timestamp, step)


def load_inputs(cur: RawCursor, run_id: str) -> RunInputs:
    """Return the datasets a run used."""
    rows = cur.execute(
        'SELECT d.name, d.digest, d.source_type, d.source, d."schema", d.profile, i.tags '
        "FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid "
        "WHERE i.run_uuid = ? ORDER BY d.name",
        (run_id,),
    ).fetchall()
    return RunInputs(
        [
            DatasetInput(Dataset(name, digest, kind, source, schema, profile), json.loads(tags))
            for name, digest, kind, source, schema, profile, tags in rows
        ]
    )
