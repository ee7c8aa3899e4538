"""Metric write-behind buffer: ``log_metric`` appends, a background thread writes.

The caller pays for a deque append (thread-safe in CPython without a lock).
A daemon thread drains the deque into the store at least every second, and
sooner when many points pile up; ``flush()`` drains it at once (run end,
``nbt.flush()``, reads that must see the points, interpreter exit). If a
flush fails the points are put back in order, so a transient error (a
locked database) loses nothing; points of runs that no longer exist are
dropped with a warning, since retrying them can never succeed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import warnings
import weakref
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from nbtrack import env
from nbtrack.errors import NbtrackWarning

if TYPE_CHECKING:
    from nbtrack.store.base import MetricPoint, Store

__all__ = ["MetricBuffer", "buffer_for", "flush_all"]

DEFAULT_INTERVAL_S = 0.5
_WAKE_AT = 50_000  # points pending before the flusher is woken early

_buffers: weakref.WeakValueDictionary[int, MetricBuffer] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def _interval() -> float:
    try:
        value = float(os.environ.get(env.NBTRACK_FLUSH_INTERVAL, DEFAULT_INTERVAL_S))
    except ValueError:
        value = DEFAULT_INTERVAL_S
    return min(max(value, 0.01), 1.0)


class MetricBuffer:
    """Buffered metric points of one store."""

    def __init__(self, store: Store, interval: float | None = None) -> None:
        self.store = store
        self.interval = interval if interval is not None else _interval()
        self._points: deque[MetricPoint] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, point: MetricPoint) -> None:
        """Queue one validated point; returns in well under a microsecond or two."""
        self._points.append(point)
        if self._thread is None:
            self._start()
        elif len(self._points) >= _WAKE_AT:
            self._wake.set()

    def extend(self, points: list[MetricPoint]) -> None:
        """Queue many validated points."""
        self._points.extend(points)
        if self._thread is None:
            self._start()
        self._wake.set()

    def pending(self) -> int:
        """Return how many points wait to be written."""
        return len(self._points)

    def _start(self) -> None:
        with _registry_lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # forked: the parent's thread is not ours
                self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="nbtrack-metric-flusher", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # the flusher must survive any error to retry later
                warnings.warn(
                    f"nbtrack could not write buffered metrics yet ({exc}); will retry",
                    NbtrackWarning,
                    stacklevel=1,
                )

    @contextlib.contextmanager
    def draining(self) -> Iterator[list[MetricPoint]]:
        """Take every queued point for the caller to write; they come back if it fails."""
        with self._flush_lock:
            points = self._points
            batch = [points.popleft() for _ in range(len(points))]
            try:
                yield batch
            except BaseException:
                points.extendleft(reversed(batch))
                raise

    def flush(self) -> None:
        """Write every queued point now; raises if the store refuses them."""
        if not self._points:
            return
        with self._flush_lock:
            points = self._points
            n = len(points)
            if not n:
                return
            batch = [points.popleft() for _ in range(n)]
            try:
                self.store.log_metric_points(batch)
            except Exception as exc:  # put the points back whatever failed, then re-raise
                if _is_integrity_error(exc):
                    self._write_per_run(batch)
                    return
                points.extendleft(reversed(batch))
                raise

    def _write_per_run(self, batch: list[MetricPoint]) -> None:
        by_run: dict[str, list[MetricPoint]] = {}
        for point in batch:
            by_run.setdefault(point[0], []).append(point)
        for run_id, run_points in by_run.items():
            try:
                self.store.log_metric_points(run_points)
            except Exception as exc:  # as in flush(): never drop points on a transient error
                if not _is_integrity_error(exc):
                    self._points.extendleft(reversed(run_points))
                    raise
                warnings.warn(
                    f"Dropped {len(run_points)} metric points of run {run_id}: the run no "
                    "longer exists in the store",
                    NbtrackWarning,
                    stacklevel=2,
                )


def _is_integrity_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


def buffer_for(store: Store) -> MetricBuffer:
    """Return the process-wide buffer of ``store``."""
    buf = getattr(store, "_nbtrack_buffer", None)
    if buf is None:
        with _registry_lock:
            buf = getattr(store, "_nbtrack_buffer", None)
            if buf is None:
                buf = MetricBuffer(store)
                store._nbtrack_buffer = buf  # type: ignore[attr-defined]
                _buffers[id(buf)] = buf
    return buf


def flush_all() -> None:
    """Flush the buffers of every store this process opened."""
    for buf in list(_buffers.values()):
        buf.flush()


def _flush_at_exit() -> None:
    for buf in list(_buffers.values()):
        try:
            buf.flush()
        except Exception as exc:  # at exit, report each store's loss rather than stop
            warnings.warn(f"nbtrack lost buffered metrics at exit: {exc}", NbtrackWarning, 1)


def _after_fork_in_child() -> None:
    # The child inherits the parent's queued points; they are the parent's to write.
    for buf in list(_buffers.values()):
        buf._points = deque()
        buf._thread = None
        buf._flush_lock = threading.Lock()
        buf._pid = os.getpid()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
