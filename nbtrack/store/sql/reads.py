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

from sqlalchemy import select

from nbtrack.entities import Dataset, DatasetInput, Run, RunData, RunInfo, RunInputs
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.raw import cursor_of

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

__all__ = ["RUN_INFO_COLUMNS", "load_inputs", "load_runs", "run_info", "run_info_from"]

_CHUNK = 500  # ids per IN (...) when loading the data of many runs


_JSON_OBJECT_AGG = {"sqlite": "json_group_object", "postgresql": "json_object_agg"}


def _as_dict(value: str | dict[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


RUN_INFO_COLUMNS = (
    "run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage, user_id"
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


def run_info(row: Row[Any]) -> RunInfo:
    """Build a RunInfo from a ``runs`` row (columns in table order)."""
    # Positional access (columns in schema.runs order) is several times faster
    # than by name, which matters when a search returns 10,000 runs.
    run_id, name, exp_id, user_id, status, start, end, stage, artifact_uri = tuple(row)[:9]
    return RunInfo(run_id, name, str(exp_id), status, start, end, artifact_uri, stage, user_id)


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Return Run entities for ``runs`` rows, with params, tags and latest metrics."""
    runs = [Run(info=run_info(r), data=RunData()) for r in rows]
    by_id = {run.info.run_id: run.data for run in runs}
    ids = list(by_id)
    nan = float("nan")
    # Tens of thousands of rows: read them through the DBAPI cursor of this
    # same transaction, skipping SQLAlchemy's per-row result machinery.
    cur = cursor_of(conn)
    agg = _JSON_OBJECT_AGG.get(conn.dialect.name)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = cur.in_list(len(chunk))
        if agg:
            # One JSON object per run and table: a tenth of the Python objects
            # that (run, key, value) rows cost, for exactly the same text.
            for run_id, params, tags in cur.execute(
                f"SELECT r.run_uuid, "
                f"(SELECT {agg}(key, value) FROM params WHERE run_uuid = r.run_uuid), "
                f"(SELECT {agg}(key, value) FROM tags WHERE run_uuid = r.run_uuid) "
                f"FROM runs r WHERE r.run_uuid IN {marks}",
                chunk,
            ).fetchall():
                data = by_id[run_id]
                data.params = _as_dict(params)
                data.tags = _as_dict(tags)
        else:
            for run_id, key, value in cur.execute(
                f"SELECT run_uuid, key, value FROM params WHERE run_uuid IN {marks}", chunk
            ).fetchall():
                by_id[run_id].params[key] = value
            for run_id, key, value in cur.execute(
                f"SELECT run_uuid, key, value FROM tags WHERE run_uuid IN {marks}", chunk
            ).fetchall():
                by_id[run_id].tags[key] = value
        # Metrics stay rows: JSON would round floats to 15 digits.
        for run_id, key, value, isnan in cur.execute(
            f"SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN {marks}",
            chunk,
        ).fetchall():
            by_id[run_id].metrics[key] = nan if isnan else value
    return runs


def load_inputs(conn: Connection, run_id: str) -> RunInputs:
    """Return the datasets a run used."""
    rows = conn.execute(
        select(s.datasets, s.run_inputs.c.tags)
        .join(s.run_inputs, s.run_inputs.c.dataset_uuid == s.datasets.c.dataset_uuid)
        .where(s.run_inputs.c.run_uuid == run_id)
        .order_by(s.datasets.c.name)
    ).all()
    return RunInputs(
        [
            DatasetInput(
                Dataset(r.name, r.digest, r.source_type, r.source, r.schema, r.profile),
                json.loads(r.tags),
            )
            for r in rows
        ]
    )
