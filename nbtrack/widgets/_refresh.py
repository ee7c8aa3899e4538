"""Live panels: a kernel-side timer that re-reads the store while a panel shows RUNNING runs.

The timer is a daemon thread in the kernel rather than a browser timer: a
browser's request would wait in the kernel's queue while a training cell runs,
which is exactly when the panel should move. The thread only reads (one page
of runs, or one run's histories), takes the panel's lock so a header click
handled at the same time cannot interleave, and stops when the panel no
longer shows a RUNNING run or is closed. Widget state sent from a thread goes
out through the kernel's thread-safe IOPub socket.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from nbtrack.errors import NbtrackError

if TYPE_CHECKING:
    from nbtrack.widgets._base import Panel

__all__ = ["in_kernel", "start_refresher"]


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (where a widget has a front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return getattr(shell, "kernel", None) is not None


#: Longest wait between two refreshes of a panel whose runs show no progress.
MAX_WAIT_S = 30.0


def _loop(panel: Panel, stop: threading.Event) -> None:
    wait = max(panel.refresh_seconds, 0.2)
    while not stop.wait(wait):
        if not panel.live or panel.comm is None:
            return
        before = panel.html
        try:
            panel.refresh_now()
        except NbtrackError:
            # The store went away or the run was purged: the panel keeps what it shows.
            return
        # A run left RUNNING by a dead process would otherwise be polled every
        # two seconds forever: back off while nothing changes.
        changed = panel.html != before
        wait = max(panel.refresh_seconds, 0.2) if changed else min(wait * 1.5, MAX_WAIT_S)


def start_refresher(panel: Panel) -> threading.Event | None:
    """Start the refresh thread of ``panel`` (in a kernel only); return its stop event."""
    if not in_kernel():
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(panel, stop), name=f"nbtrack-refresh-{panel.model_id}", daemon=True
    )
    thread.start()
    return stop
