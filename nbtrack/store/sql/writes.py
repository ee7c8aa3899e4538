"""Batched writes of runs, params, tags and metric points: the store's hot path.

Each function takes a :class:`~nbtrack.store.sql.raw.RawCursor` inside one
write transaction. Metric points go through ``executemany``; latest values
are folded in Python first so each (run, key) costs one upsert.
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
_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp >= latest_metrics.timestamp)"
)
_INSERT_POINTS = (
    "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# PostgreSQL takes a whole batch as one statement over arrays, one per column: a round
# trip per batch instead of one per row (1,000 points: 60 ms -> a few ms).
_UNNEST_POINTS = (
    "SELECT * FROM unnest(?::varchar[], ?::varchar[], ?::bigint[], ?::bigint[], "
    "?::float8[], ?::boolean[])"
)
_INSERT_POINTS_PG = (
    "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
    f"{_UNNEST_POINTS} ON CONFLICT DO NOTHING"
)
_UPSERT_LATEST_PG = _UPSERT_LATEST.replace(
    "VALUES (?, ?, ?, ?, ?, ?)",
    "SELECT * FROM unnest(?::varchar[], ?::varchar[], ?::float8[], ?::bigint[], ?::bigint[], "
    "?::boolean[])",
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
    """Raise unless the run exists, is not deleted and has not ended."""
    row = cur.execute(
        "SELECT status, lifecycle_stage FROM runs WHERE run_uuid = ?", (run_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"No run with id {run_id!r}")
    if row[1] != LifecycleStage.ACTIVE:
        raise RunNotActiveError(run_id, "deleted")
    if RunStatus.is_terminated(row[0]):
        raise RunNotActiveError(run_id, row[0])


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
    cur.executemany(
        "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)",
        [(run_id, k, v) for k, v in wanted.items() if k not in existing],
    )


def write_tags(cur: RawCursor, run_id: str, tags: Iterable[RunTag]) -> None:
    """Insert or overwrite run tags."""
    cur.executemany(_UPSERT_TAG, [(run_id, t.key, t.value) for t in tags])


def write_metric_points(cur: RawCursor, points: Sequence[MetricPoint]) -> None:
    """Append points to the history and move each (run, key)'s latest value forward."""
    if not points:
        return
    # NaN is the one value unequal to itself. History keeps it as 0.0 + flag (a key
    # column cannot be NULL); latest_metrics as NULL + flag.
    latest: dict[tuple[str, str], tuple[float | None, int, int, bool]] = {}
    for r, k, v, ts, st in points:
        current = latest.get((r, k))
        if current is None or st > current[2] or (st == current[2] and ts >= current[1]):
            latest[(r, k)] = (None, ts, st, True) if v != v else (v, ts, st, False)
    latest_rows = [(r, k, v, ts, st, nan) for (r, k), (v, ts, st, nan) in latest.items()]
    if cur.postgres:
        rows = [(r, k, st, ts, 0.0 if v != v else v, v != v) for r, k, v, ts, st in points]
        cur.execute_columns(_INSERT_POINTS_PG, [list(c) for c in zip(*rows, strict=True)])
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
