"""Batched writes of runs, params, tags and metric points: the store's hot path.

Each function takes a :class:`~nbtrack.store.sql.raw.RawCursor` inside one
write transaction. Latest values are folded in Python first so each (run,
key) costs one upsert. On SQLite metric points go through ``executemany``; on
PostgreSQL through ``COPY`` (see :func:`write_metric_points`).

A run's latest value of a metric is MLflow's: the point with the greatest
(step, timestamp, value), NaN counting as 0 there (MLflow stores NaN as 0 with
a flag and compares the stored value); an equal point does not replace it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from nbtrack.entities import LifecycleStage, Param, RunStatus, RunTag
from nbtrack.errors import NotFoundError, ParamConflict, RunNotActiveError

if TYPE_CHECKING:
    from nbtrack.store.base import MetricPoint
    from nbtrack.store.sql.raw import RawCursor

_UPSERT_TAG = (
    "INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)
# PostgreSQL: all of a request's tags or params in one statement (``executemany``
# runs a pipeline, which costs a round trip more than the statement itself).
_UPSERT_TAGS_PG = _UPSERT_TAG.replace(
    "VALUES (?, ?, ?)", "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::varchar[])"
)
_INSERT_PARAM = "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)"
_INSERT_PARAMS_PG = _INSERT_PARAM.replace(
    "VALUES (?, ?, ?)", "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::varchar[])"
)
_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
    "WHERE (excluded.step, excluded.timestamp, COALESCE(excluded.value, 0.0)) > "
    "(latest_metrics.step, latest_metrics.timestamp, COALESCE(latest_metrics.value, 0.0))"
)
_INSERT_POINTS = (
    "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# PostgreSQL takes the points by COPY, in binary: the driver formats the rows in C
# and the server inserts them in bulk (1,000 points: a third of the server's CPU
# and a fifth of ours compared with INSERT … SELECT FROM unnest of text arrays).
# COPY cannot skip a point already stored, so it runs under a savepoint and a
# batch holding one falls back to the INSERT, which skips it.
_COPY_POINTS = (
    "COPY metrics (run_uuid, key, step, timestamp, value, is_nan) FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ("varchar", "varchar", "int8", "int8", "float8", "bool")
_SAVEPOINT = "nbtrack_points"
# ``%b``: psycopg sends these arrays in binary (``%s`` would quote every element
# as text in Python).
_UNNEST_POINTS = (
    "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::bigint[], %b::bigint[], "
    "%b::float8[], %b::boolean[])"
)
_INSERT_POINTS_PG = (
    "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
    f"{_UNNEST_POINTS} ON CONFLICT DO NOTHING"
)
_UPSERT_LATEST_PG = _UPSERT_LATEST.replace(
    "VALUES (?, ?, ?, ?, ?, ?)",
    "SELECT * FROM unnest(%b::varchar[], %b::varchar[], %b::float8[], %b::bigint[], "
    "%b::bigint[], %b::boolean[])",
)
_INSERT_RUN = (
    "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
    "end_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)"
)


_CLAIM_REQUEST = (
    "INSERT INTO request_receipts (request_id, created_time) VALUES (?, ?) "
    "ON CONFLICT (request_id) DO NOTHING"
)


def claim_request(cur: RawCursor, request_id: str) -> bool:
    """Record a request's id; False if it was recorded before (the request was applied).

    Called first in the transaction that writes the request's data, so the
    receipt and the data commit (or roll back) together: a retry after a lost
    answer finds the receipt and writes nothing twice.
    """
    inserted = cur.execute(_CLAIM_REQUEST, (request_id, int(time.time() * 1000))).rowcount
    return bool(inserted == 1)


def check_writable(cur: RawCursor, run_id: str) -> None:
    """Raise unless the run exists and is not deleted.

    An ended run (FINISHED, FAILED, KILLED) takes data here, as in MLflow's
    store, so the tracking server accepts what MLflow's accepts; nbtrack's own
    API refuses it earlier (``Client._check_writable``, RunNotActiveError).
    """
    row = cur.execute("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No run with id {run_id!r}")
    if row[0] != LifecycleStage.ACTIVE:
        raise RunNotActiveError(run_id, "deleted")


def insert_run(
    cur: RawCursor,
    run_id: str,
    name: str,
    experiment_id: int,
    user_id: str,
    start_time: int,
    artifact_uri: str,
) -> None:
    """Insert a RUNNING, active run row."""
    cur.execute(
        _INSERT_RUN,
        (
            run_id,
            name,
            experiment_id,
            user_id,
            RunStatus.RUNNING,
            start_time,
            LifecycleStage.ACTIVE,
            artifact_uri,
        ),
    )


def write_params(cur: RawCursor, run_id: str, params: Sequence[Param]) -> None:
    """Insert params; the same value again is a no-op, another value raises ParamConflict."""
    if not params:
        return
    wanted: dict[str, str] = {}
    for p in params:
        if p.key in wanted and wanted[p.key] != p.value:
            raise ParamConflict(run_id, p.key, wanted[p.key], p.value)
        wanted[p.key] = p.value
    keys = list(wanted)
    existing = dict(
        cur.execute(
            f"SELECT key, value FROM params WHERE run_uuid = ? AND key IN {cur.in_list(len(keys))}",
            (run_id, *keys),
        ).fetchall()
    )
    for key, value in wanted.items():
        if key in existing and existing[key] != value:
            raise ParamConflict(run_id, key, existing[key], value)
    _write_rows(
        cur,
        _INSERT_PARAM,
        _INSERT_PARAMS_PG,
        run_id,
        {k: v for k, v in wanted.items() if k not in existing},
    )


def write_tags(cur: RawCursor, run_id: str, tags: Iterable[RunTag]) -> None:
    """Insert or overwrite run tags (of a key given twice, the later value stays)."""
    _write_rows(cur, _UPSERT_TAG, _UPSERT_TAGS_PG, run_id, {t.key: t.value for t in tags})


def _write_rows(
    cur: RawCursor, one: str, columns: str, run_id: str, values: dict[str, str]
) -> None:
    # One row: a plain statement. More on PostgreSQL: one statement over arrays
    # (keys are unique here, which ON CONFLICT DO UPDATE needs).
    if not values:
        return
    if len(values) == 1:
        ((key, value),) = values.items()
        cur.execute(one, (run_id, key, value))
    elif cur.postgres:
        cur.execute_columns(columns, [[run_id] * len(values), list(values), list(values.values())])
    else:
        cur.executemany(one, [(run_id, k, v) for k, v in values.items()])


def write_metric_points(cur: RawCursor, points: Sequence[MetricPoint]) -> None:
    """Append points to the history and move each (run, key)'s latest value forward.

    A point already in the history (the same run, key, step, timestamp and
    value) is not stored twice.
    """
    if not points:
        return
    # NaN is the one value unequal to itself. History keeps it as 0.0 + flag (a key
    # column cannot be NULL); latest_metrics as NULL + flag.
    latest: dict[tuple[str, str], tuple[int, int, float, float | None, bool]] = {}
    for r, k, v, ts, st in points:
        order = (st, ts, 0.0 if v != v else v)
        current = latest.get((r, k))
        if current is None or order > current[:3]:
            latest[(r, k)] = (*order, None, True) if v != v else (*order, v, False)
    latest_rows = [(r, k, v, ts, st, nan) for (r, k), (st, ts, _, v, nan) in latest.items()]
    if cur.postgres:
        _write_points_pg(cur, points)
        cur.execute_columns(_UPSERT_LATEST_PG, [list(c) for c in zip(*latest_rows, strict=True)])
        return
    # Rows are made as the driver binds them: a list of them would outlive two
    # young-generation collections and, at 10,000 points, set off a full one
    # (60 ms with SQLAlchemy loaded), which cost log_batch half its speed.
    cur.executemany(
        _INSERT_POINTS,
        ((r, k, st, ts, 0.0 if v != v else v, v != v) for r, k, v, ts, st in points),
    )
    cur.executemany(_UPSERT_LATEST, latest_rows)


def _write_points_pg(cur: RawCursor, points: Sequence[MetricPoint]) -> None:
    from psycopg.errors import UniqueViolation

    # ``execute`` hands back the driver's cursor, which does the COPY.
    pg = cur.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        with pg.copy(_COPY_POINTS) as copy:
            copy.set_types(_COPY_TYPES)
            write_row = copy.write_row
            for r, k, v, ts, st in points:
                if v != v:
                    write_row((r, k, st, ts, 0.0, True))
                else:
                    write_row((r, k, st, ts, v, False))
    except UniqueViolation:
        # A point stored before (or twice in this batch): the slower path that skips it.
        cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        rows = [(r, k, st, ts, 0.0 if v != v else v, v != v) for r, k, v, ts, st in points]
        cur.execute_columns(_INSERT_POINTS_PG, [list(c) for c in zip(*rows, strict=True)])
