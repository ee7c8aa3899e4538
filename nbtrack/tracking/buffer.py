"""Metric write-behind buffer: ``log_metric`` appends, a background thread writes.

The caller pays for a deque append (thread-safe in CPython without a lock).
A daemon thread drains the deque into the store at least every second, and
sooner when many points pile up; ``flush()`` drains it at once (run end,
``nbt.flush()``, reads that must see the points, interpreter exit). If a
flush fails the points are put back in order, so a transient error (a
locked database) loses nothing; points of runs that no longer exist are
dropped with a warning, since retrying them can never succeed.

Against a remote store (an nbtrack server) the points leave in per-run
batches within MLflow's log-batch limits, each with its own request id that
stays with the batch until the server has confirmed it: a batch retried after
a lost answer, even flushes later, is stored once. While the server cannot be
reached the points stay queued and the user is warned once per outage.
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

__all__ = ["MetricBuffer", "PointBatch", "buffer_for", "flush_all"]

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
        # Remote stores: one run's points per batch, with its request id, sent in order;
        # a batch leaves this queue only once the server has stored it.
        self._remote = bool(getattr(store, "remote", False))
        self._batches: deque[PointBatch] = deque()
        self._outage = False

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
        return len(self._points) + sum(len(batch) for batch in list(self._batches))

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
                if getattr(exc, "transient", False):
                    # An unreachable server: one warning per outage, not one per second.
                    if not self._outage:
                        self._outage = True
                        warnings.warn(
                            f"{exc}. {self.pending()} buffered metric points are kept and "
                            "will be sent when it answers again",
                            NbtrackWarning,
                            stacklevel=1,
                        )
                    continue
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

    def end_run(self, run_id: str, status: str, end_time: int) -> None:
        """Write the queued points and end the run.

        A local store takes the run's last points and its end in one
        transaction; a remote one gets the points in confirmed batches first,
        then the end, so no point is sent twice or lost.
        """
        if self._remote:
            from nbtrack.store._http import new_request_id

            self.flush()
            self.store.end_run(run_id, status, end_time, [], request_id=new_request_id())
            return
        try:
            with self.draining() as points:
                self.store.end_run(run_id, status, end_time, points)
        except Exception as exc:
            if not _is_integrity_error(exc):
                raise
            # Points of some purged run are in the batch: flush() sorts them out per run.
            self.flush()
            self.store.end_run(run_id, status, end_time, [])

    def flush(self) -> None:
        """Write every queued point now; raises if the store refuses them."""
        if not self._points and not self._batches:
            return
        with self._flush_lock:
            if self._remote:
                self._flush_batches()
                self._outage = False
                return
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

    def _flush_batches(self) -> None:
        from nbtrack.store._http import new_request_id
        from nbtrack.store.rest_batches import split_points

        points = self._points
        n = len(points)
        if n:
            batch = [points.popleft() for _ in range(n)]
            self._batches.extend(
                PointBatch(chunk, new_request_id()) for _, chunk in split_points(batch)
            )
        while self._batches:
            chunk = self._batches[0]
            try:
                self.store.log_metric_points(chunk)
            except Exception as exc:  # kept in the queue, with its id, unless it can never succeed
                if not _is_refusal(exc):
                    raise
                warnings.warn(
                    f"Dropped {len(chunk)} metric points of run {chunk[0][0]}: the server "
                    f"refused them ({exc})",
                    NbtrackWarning,
                    stacklevel=4,
                )
            self._batches.popleft()

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
    """True for a SQL store's IntegrityError: the points name a purged run.

    Checked by class name, so that this module never imports a database driver.
    """
    return any(cls.__name__ == "IntegrityError" for cls in type(exc).__mro__)


def _is_refusal(exc: BaseException) -> bool:
    """True when a server refused a batch for good (a 4xx answer: the run is gone,
    deleted or ended); retrying it can never succeed. Unreachable servers and 5xx
    answers are not refusals: the batch is kept."""
    from nbtrack.errors import InvalidInput, NotFoundError, RunNotActiveError

    return isinstance(exc, (NotFoundError, RunNotActiveError, InvalidInput))


class PointBatch(list):
    """One run's points as one request sends them, with the request id it keeps on retries.

    A remote store reads ``request_id`` off the list it is given, so the id
    travels with the batch through ``Store.log_metric_points(points)``.
    """

    def __init__(self, points: list[MetricPoint], request_id: str) -> None:
        super().__init__(points)
        self.request_id = request_id


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
        buf._batches = deque()
        buf._thread = None
        buf._flush_lock = threading.Lock()
        buf._pid = os.getpid()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
