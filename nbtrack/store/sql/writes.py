"""Batched writes of params, tags and metric points: the store's hot path.

Metric points go to the database through the DBAPI's ``executemany`` with
positional parameters, skipping per-row SQLAlchemy processing, because the
buffer flushes tens of thousands of points at a time. Latest values are
folded in Python first so each (run, key) costs one upsert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import text

from nbtrack.entities import Param, RunTag
from nbtrack.errors import ParamConflict

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from nbtrack.store.base import MetricPoint

_UPSERT_TAG = text(
    "INSERT INTO tags (run_uuid, key, value) VALUES (:run_uuid, :key, :value) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"
)
_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, "
    "timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp >= latest_metrics.timestamp)"
)
_INSERT_POINTS = (
    "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
)


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def write_params(conn: Connection, run_id: str, params: Sequence[Param]) -> None:
    """Insert params; the same value again is a no-op, another value raises ParamConflict."""
    if not params:
        return
    wanted: dict[str, str] = {}
    for p in params:
        if p.key in wanted and wanted[p.key] != p.value:
            raise ParamConflict(run_id, p.key, wanted[p.key], p.value)
        wanted[p.key] = p.value
    existing = dict(
        conn.execute(
            text("SELECT key, value FROM params WHERE run_uuid = :r AND key IN :keys").bindparams(
                _expanding("keys")
            ),
            {"r": run_id, "keys": list(wanted)},
        ).all()
    )
    for key, value in wanted.items():
        if key in existing and existing[key] != value:
            raise ParamConflict(run_id, key, existing[key], value)
    new = [
        {"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing
    ]
    if new:
        conn.execute(
            text("INSERT INTO params (run_uuid, key, value) VALUES (:run_uuid, :key, :value)"), new
        )


def write_tags(conn: Connection, run_id: str, tags: Iterable[RunTag]) -> None:
    """Insert or overwrite run tags."""
    rows = [{"run_uuid": run_id, "key": t.key, "value": t.value} for t in tags]
    if rows:
        conn.execute(_UPSERT_TAG, rows)


def write_metric_points(conn: Connection, points: Sequence[MetricPoint]) -> None:
    """Append points to the history and move each (run, key)'s latest value forward."""
    if not points:
        return
    isnan = math.isnan
    rows = []
    latest: dict[tuple[str, str], tuple[float | None, int, int, bool]] = {}
    for run_id, key, value, timestamp, step in points:
        nan = isnan(value)
        stored = None if nan else value
        rows.append((run_id, key, stored, timestamp, step, nan))
        current = latest.get((run_id, key))
        if current is None or (step, timestamp) >= (current[2], current[1]):
            latest[(run_id, key)] = (stored, timestamp, step, nan)
    p = _placeholder(conn)
    conn.exec_driver_sql(_INSERT_POINTS.format(p=p), rows)
    conn.exec_driver_sql(
        _UPSERT_LATEST.format(p=p),
        [(r, k, v, ts, st, nan) for (r, k), (v, ts, st, nan) in latest.items()],
    )


def _expanding(name: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)
