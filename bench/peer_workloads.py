"""The peer workloads P1 and P2: what every tracking library can do, in its own API.

- P1 import → first durable point: a fresh ``python`` process imports the
  library, starts a run, logs one point and ends the run (see
  ``bench._peer_api`` for what "ended" waits for in each library). The figures
  are the median time from before the import until the end returned, measured
  inside the process, and the median of the whole process, launch to exit
  (interpreter start-up and the library's own shutdown included: what a
  script that logs one point costs). One untimed launch first creates the
  store and the bytecode caches, so each timed launch is a new session over an
  existing store, as a notebook's second session would be.
- P2 ``size`` points in one run, one library call each: µs per call in the
  caller, last call → durable (the run's end returning), sustained points/s
  (calls + end), then the history read back by ``repeat`` fresh processes
  through the library's own reader (first read in each, the library already
  imported): the median time and a check that every step and value is there.

Every point written is checked from another process: a fast wrong answer is
not a result. Standard library only at module level (this runs in each
library's venv).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._peer_api import ADAPTERS
from bench._proc import run_worker

if TYPE_CHECKING:
    from bench.workloads import Context

__all__ = ["p1_first_point", "p2_log_points", "peer_read"]

# The script a P1 launch runs: the clock starts before the library's import.
_FIRST_POINT = """\
import time
start = time.perf_counter()
import json, sys
from pathlib import Path
from bench._peer_api import ADAPTERS
adapter = ADAPTERS[sys.argv[1]]()
adapter.begin(Path(sys.argv[2]), sys.argv[3])
adapter.log_points([0.0])
ref = adapter.end()
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "ref": ref}))
"""


def values(n: int) -> list[float]:
    """The ``n`` values every peer workload logs (``sin(i / 100)``; P1's one point is 0.0)."""
    return [math.sin(i / 100) for i in range(n)]


def p1_first_point(ctx: Context) -> dict[str, Any]:
    """Import → one point durable, in ``repeat`` fresh processes; every point read back."""
    store = ctx.store / "p1"
    store.mkdir(exist_ok=True)
    _launch(ctx.lib, store, "p1-warmup")
    in_process: list[float] = []
    whole: list[float] = []
    refs = []
    for k in range(ctx.repeat):
        start = time.perf_counter()
        line = _launch(ctx.lib, store, f"p1-{k}")
        whole.append((time.perf_counter() - start) * 1000)
        in_process.append(line["ms"])
        refs.append(line["ref"])
    seen = _read_back(ctx.lib, store, refs, 1)
    return {
        "version": seen["version"],
        "first_point_ms": statistics.median(in_process),
        "first_point_ms_runs": in_process,
        "first_point_process_ms": statistics.median(whole),
        "first_point_process_ms_runs": whole,
        "runs_read_back": len(refs),
    }


def p2_log_points(ctx: Context) -> dict[str, Any]:
    """``size`` points, one call each; durable at the run's end; history read by new processes."""
    n = ctx.size
    adapter = ADAPTERS[ctx.lib]()
    adapter.begin(ctx.store, "p2")
    points = values(n)
    start = time.perf_counter()
    adapter.log_points(points)
    last_call = time.perf_counter()
    ref = adapter.end()
    durable = time.perf_counter()
    reads = []
    version = "unknown"
    for _ in range(ctx.repeat):
        seen = _read_back(ctx.lib, ctx.store, [ref], n)
        reads.append(seen["read_ms"][0])
        version = seen["version"]
    return {
        "version": version,
        "log_us_per_call": (last_call - start) / n * 1e6,
        "durable_ms": (durable - last_call) * 1000,
        "sustained_points_per_s": n / (durable - start),
        "history_read_ms": statistics.median(reads),
        "history_read_ms_runs": reads,
        "points_read_back": n,
    }


def peer_read(ctx: Context) -> dict[str, Any]:
    """The read-back worker: ``params["refs"]`` read once each, timed, with their checks."""
    adapter = ADAPTERS[ctx.lib]()
    version = adapter.prepare_read(ctx.store)
    lengths, steps_ok, values_ok, read_ms = [], [], [], []
    for ref in ctx.params["refs"]:
        start = time.perf_counter()
        history = adapter.read(ctx.store, ref)
        read_ms.append((time.perf_counter() - start) * 1000)
        history.sort()
        expected = values(len(history))
        lengths.append(len(history))
        steps_ok.append([step for step, _ in history] == list(range(len(history))))
        pairs = zip(history, expected, strict=True)
        values_ok.append(all(math.isclose(v, e, abs_tol=1e-12) for (_, v), e in pairs))
    return {
        "version": version,
        "lengths": lengths,
        "steps_ok": steps_ok,
        "values_ok": values_ok,
        "read_ms": read_ms,
    }


def _launch(lib: str, store: Path, name: str) -> dict[str, Any]:
    """One P1 process; its JSON line (the in-process time and the run's reference)."""
    proc = subprocess.run(
        [sys.executable, "-c", _FIRST_POINT, lib, str(store), name],
        cwd=store,
        capture_output=True,
        text=True,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"ms"')]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{lib}'s first-point process failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _read_back(lib: str, store: Path, refs: list[str], n: int) -> dict[str, Any]:
    """Read ``refs`` from a new process; raise unless each holds the ``n`` points logged."""
    from bench.workloads import CheckFailed

    seen = run_worker(lib, "_peer_read", store=store, params={"refs": refs}, env=dict(os.environ))
    if not seen.get("ok"):
        raise RuntimeError(f"reading {lib}'s history back failed: {seen.get('error')}")
    for ref, got, steps, vals in zip(
        refs, seen["lengths"], seen["steps_ok"], seen["values_ok"], strict=True
    ):
        if got != n or not steps or not vals:
            raise CheckFailed(f"points of run {ref} read back by a new process", n, got)
    return seen
