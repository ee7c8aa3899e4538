"""The kernel sessions' cell-execution log, the record run lineage points into.

The kernel hook appends executions in batches (write-behind); a run stores
its session id and how many executions of that session came before its end,
so its lineage is the session's first N executions in insertion order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from nbtrack.entities import CellExecution
from nbtrack.store.sql import schema as s

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["get_cell_executions", "log_cell_executions"]


def log_cell_executions(conn: Connection, executions: Sequence[CellExecution]) -> None:
    """Append ``executions`` (in order) to the log."""
    if not executions:
        return
    conn.execute(
        insert(s.cell_executions),
        [
            {
                "session_id": e.session_id,
                "cell_id": e.cell_id,
                "execution_count": e.execution_count,
                "source": e.source,
                "start_time": e.start_time,
                "duration_ms": e.duration_ms,
                "ok": e.ok,
            }
            for e in executions
        ],
    )


def get_cell_executions(
    conn: Connection, session_id: str, max_results: int | None = None
) -> list[CellExecution]:
    """Return a session's executions in the order they ran (the first ``max_results``)."""
    t = s.cell_executions
    query = (
        select(
            t.c.session_id,
            t.c.cell_id,
            t.c.execution_count,
            t.c.source,
            t.c.start_time,
            t.c.duration_ms,
            t.c.ok,
        )
        .where(t.c.session_id == session_id)
        .order_by(t.c.id)
    )
    if max_results is not None:
        query = query.limit(max_results)
    return [CellExecution(*row) for row in conn.execute(query)]
