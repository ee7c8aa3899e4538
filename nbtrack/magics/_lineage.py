"""The session's cell-execution log, kept in memory and written behind in batches.

Every cell the kernel runs is recorded in microseconds (a list append); the
records reach the store when a tracked cell starts or ends, every
``batch`` cells, when the extension is unloaded and at interpreter exit.
A run stores the session id and the log's length at its start and end, so
its lineage is the exact code that had run in the kernel, in order.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from nbtrack.entities import CellExecution

__all__ = ["LineageLog"]

_MAX_PENDING = 10_000


class LineageLog:
    """Cell executions of one kernel session, written behind to the store.

    Parameters
    ----------
    session_id:
        Names the session in the store (a new random id by default).
    batch:
        How many pending executions make :meth:`due` true.
    """

    def __init__(self, session_id: str | None = None, batch: int = 50) -> None:
        self.session_id = session_id or uuid.uuid4().hex
        self.batch = batch
        self.count = 0
        self.dropped = 0
        self._pending: list[CellExecution] = []
        self._lock = threading.Lock()

    def record(
        self,
        source: str,
        start_time: int,
        duration_ms: float | None,
        ok: bool | None,
        cell_id: str | None = None,
        execution_count: int | None = None,
    ) -> None:
        """Append one execution (kept in memory until :meth:`flush`)."""
        execution = CellExecution(
            self.session_id, cell_id, execution_count, source, start_time, duration_ms, ok
        )
        with self._lock:
            if len(self._pending) >= _MAX_PENDING:
                # The store has been unreachable for a long time: keep the newest.
                self._pending.pop(0)
                self.dropped += 1
            self._pending.append(execution)
            self.count += 1

    def pending(self) -> int:
        """Return how many executions wait to be written."""
        return len(self._pending)

    def due(self) -> bool:
        """Return True when enough executions are pending to write a batch."""
        return len(self._pending) >= self.batch

    def flush(self, client: Any) -> None:
        """Write pending executions through ``client``; on failure they stay pending."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            client.log_cell_executions(pending)
        except BaseException:
            with self._lock:
                self._pending[:0] = pending
            raise
