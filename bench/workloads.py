"""The workloads W1–W6: each drives nbtrack or MLflow and returns its figures.

Each workload is a function of a :class:`Context` returning a flat dict of
figures (times in ms or µs, rates per second, sizes in MB) and the counts its
correctness checks saw. A failed check raises :class:`CheckFailed`: a fast
wrong answer is not a result.

- W1 cold ``import <lib>``: in-process import time and the whole
  ``python -c "import <lib>"`` process, and ``%load_ext nbtrack`` in a fresh
  IPython shell (nbtrack only).
- W2 ``size`` ``log_metric`` calls in one run: µs per call in the caller, time
  from the last call until the points are durable (nbtrack: ``flush()``;
  MLflow logs synchronously, so 0), sustained points/s, ``size`` points via
  ``log_batch``, and the peak RSS of the process. The history is read back
  from a second process.
- W3 ``size`` runs × 20 params, 5 metrics, 3 tags through the fluent API.
- W4 ``search_runs`` with a metric + param filter and order_by, and the
  all-runs DataFrame, over ``size`` runs (W3's store when the runner has one,
  else one built by the library's fastest path, see ``bench._stores``).
- W5 ``get_metric_history`` of a ``size``-point metric.
- W6 notebook overheads: per-``fit`` cost of sklearn autolog (LogisticRegression
  on iris, without and with the model; both libraries), then ``%load_ext
  nbtrack`` and the per-cell cost of the kernel hook and of ``%%track`` over
  ``size`` cells in IPython's shell (nbtrack only).

P1 and P2, which every peer library runs in its own API, are in
``bench.peer_workloads``; W7–W9 in their own modules.

Only the standard library is imported at module level (the workloads run in
MLflow's venv too); the library under test comes in through ``bench._api``.
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._api import Api
from bench._proc import run_worker
from bench._stores import (
    FILTER,
    ORDER_BY,
    StoreInfo,
    build_runs_store,
    expected_matches,
    run_data,
)
from bench.peer_workloads import p1_first_point, p2_log_points, peer_read
from bench.scoring import w7_scoring
from bench.w8_panels import w8_panels
from bench.w9_server import w9_log_metric, w9_server

__all__ = ["WORKLOADS", "CheckFailed", "Context"]

#: Largest ``log_batch`` each library accepts (MLflow: 1,000 metrics a call).
BATCH_LIMIT = {"mlflow": 1000, "nbtrack": None}

# A call slower than this is timed fewer times (see _timed_ms).
_SLOW_CALL_MS = 2000.0
_SLOW_CALL_REPEAT = 3


class CheckFailed(AssertionError):
    """A workload's result is wrong (lost points, a wrong row count…)."""

    def __init__(self, what: str, expected: object, got: object) -> None:
        super().__init__(f"{what}: expected {expected!r}, got {got!r}")
        self.what, self.expected, self.got = what, expected, got


@dataclass(frozen=True, slots=True)
class Context:
    """What a workload is asked to do.

    Parameters
    ----------
    lib
        ``"nbtrack"`` or ``"mlflow"`` (P1 and P2 also ``"trackio"``, ``"wandb"``, ``"aim"``).
    store
        An existing folder for the store (also the working directory).
    size
        Points (W2, W5) or runs (W3, W4); unused by W1.
    repeat
        How many timed repetitions a median is taken over.
    params
        Extra, workload-specific arguments.
    """

    lib: str
    store: Path
    size: int
    repeat: int = 5
    params: dict[str, Any] = field(default_factory=dict)


def w1_import(ctx: Context) -> dict[str, Any]:
    """Cold import of the library, in-process and as a whole ``python -c`` process."""
    lib = ctx.lib
    timed = (
        f"import time; t = time.perf_counter(); import {lib}; e = time.perf_counter() - t; "
        f"v = getattr({lib}, '__version__', None); import importlib.metadata as md; "
        # aim.__version__ is a module; its distribution's metadata has the string.
        f"print(e, v if isinstance(v, str) else md.version('{lib}'))"
    )
    # One untimed launch first: it writes the bytecode caches a user's second
    # session would find, so every timed launch sees the same state.
    _python("-c", timed)
    imports: list[float] = []
    process: list[float] = []
    startup: list[float] = []
    version = "unknown"
    # Interleaved, so that a burst of load on the machine hits all three alike.
    for _ in range(ctx.repeat):
        seconds, version = _python("-c", timed).split()
        imports.append(float(seconds) * 1000)
        process.append(_launch_ms("-c", f"import {lib}"))
        startup.append(_launch_ms("-c", "pass"))
    return {
        "version": version,
        "import_ms": statistics.median(imports),
        "import_ms_runs": imports,
        "process_ms": statistics.median(process),
        "process_ms_runs": process,
        "python_startup_ms": statistics.median(startup),
        "load_ext_ms": _load_ext_ms(ctx) if lib == "nbtrack" else None,
    }


def _load_ext_ms(ctx: Context) -> float:
    """Median time of ``%load_ext nbtrack`` in a fresh IPython shell (a new process each)."""
    code = (
        "import time\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "t = time.perf_counter()\n"
        "ip.run_line_magic('load_ext', 'nbtrack')\n"
        "print(time.perf_counter() - t)\n"
    )
    runs = [float(_python("-c", code).split()[-1]) * 1000 for _ in range(ctx.repeat)]
    return statistics.median(runs)


def w6_kernel_hook(ctx: Context) -> dict[str, Any]:
    """Notebook overheads: sklearn autolog per ``fit``, the kernel hook and ``%%track`` per cell.

    Autolog first, in plain Python as a script would fit (both libraries):
    :func:`_autolog_fit_ms`. Then, nbtrack only (MLflow has neither a kernel
    hook nor a cell magic): ``%load_ext nbtrack`` in fresh processes, and
    ``size`` trivial cells run without the extension, then with it loaded (the
    hook logs every execution), then as ``%%track --quiet`` cells; the figures
    are the differences of the median per-cell times. Last, autolog once more
    with the extension loaded, where each fit's run also records its lineage
    and environment files.
    """
    api = Api(ctx.lib)
    api.use_store(ctx.store)
    fits = max(30, 6 * ctx.repeat)
    autolog = _autolog_fit_ms(api, ctx.store, fits)
    if ctx.lib != "nbtrack":
        return {"version": api.version, "hook_ms": None, "track_ms": None, **autolog}
    import contextlib
    import io

    from IPython.core.interactiveshell import InteractiveShell

    os.environ["NBTRACK_TRACKING_URI"] = str(ctx.store)
    load_ext = _load_ext_ms(ctx)
    shell = InteractiveShell.instance()

    def per_cell_ms(cell: str) -> float:
        times = []
        for i in range(ctx.size):
            start = time.perf_counter()
            shell.run_cell(cell.format(i=i), store_history=True)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    experiment_id = api.create_experiment("bench-w6-cells", ctx.store)
    with contextlib.redirect_stdout(io.StringIO()):
        plain = per_cell_ms("x = {i}")
        shell.run_line_magic("load_ext", "nbtrack")
        hooked = per_cell_ms("x = {i}")
        shell.run_cell("%%track --quiet warmup\nalpha = 0.5\nscore = alpha * 2.0")
        tracked = per_cell_ms("%%track --quiet cell\nalpha = 0.5\nscore = alpha * {i}.0")
        api.flush()
    client = api.client()
    runs = client.search_runs([experiment_id])
    if len(runs) < ctx.size:
        raise CheckFailed("runs made by %%track cells", ctx.size + 1, len(runs))
    in_kernel = _autolog_fit_ms(api, ctx.store, fits, (False,), "bench-w6-autolog-kernel")
    return {
        "version": api.version,
        "plain_cell_ms": plain,
        "hook_ms": max(hooked - plain, 0.0),
        "track_ms": max(tracked - plain, 0.0),
        "cells": ctx.size,
        "load_ext_ms": load_ext,
        **autolog,
        "autolog_own_in_kernel_ms": in_kernel["autolog_own_ms"],
    }


def _autolog_fit_ms(
    api: Api,
    store: Path,
    fits: int,
    models: tuple[bool, ...] = (False, True),
    name: str = "bench-w6-autolog",
) -> dict[str, Any]:
    """Extra time of a LogisticRegression ``fit`` on iris with sklearn autolog on.

    For each setting (model logged or not), ``fits`` fits with autolog on and
    as many with it off alternate; the figure is the median of the paired
    differences (on − off), so that load on the machine hits both sides of a
    pair alike. nbtrack also reports the time its autolog spends in its own
    steps (start the run, log after the fit), timed directly: that figure does
    not carry the noise of the fit itself. Every autologged fit must have made
    one finished run (with nbtrack, a model folder when asked).
    """
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    autolog = api.mod.autolog
    own: list[float] = []
    restore = _time_autolog_steps(api, own)

    def fit_ms() -> float:
        model = LogisticRegression(max_iter=500)
        start = time.perf_counter()
        model.fit(X, y)
        return (time.perf_counter() - start) * 1000

    figures: dict[str, Any] = {}
    from threadpoolctl import threadpool_limits

    # One BLAS thread: with several, a fit's time swings 10x on a shared machine
    # (threads waiting for cores), drowning the few ms autolog adds.
    limits = threadpool_limits(1)
    try:
        for log_models in models:
            key = "autolog_model_fit_ms" if log_models else "autolog_fit_ms"
            experiment_id = api.create_experiment(f"{name}-{key}", store)
            on: list[float] = []
            off: list[float] = []
            own_per_fit: list[float] = []
            autolog(log_models=log_models, silent=True)
            fit_ms()  # warm-up: imports, first run, first model
            for _ in range(fits):
                gc.collect()
                own.clear()
                on.append(fit_ms())
                own_per_fit.append(sum(own))
                autolog(disable=True)
                off.append(fit_ms())
                autolog(log_models=log_models, silent=True)
            autolog(disable=True)
            api.flush()
            runs = api.client().search_runs([experiment_id])
            finished = [r for r in runs if r.info.status == "FINISHED"]
            if len(finished) != fits + 1:
                raise CheckFailed(f"finished autolog runs ({key})", fits + 1, len(finished))
            # MLflow 3 keeps models outside the run's artifacts (as "logged models").
            if log_models and api.lib == "nbtrack":
                paths = [f.path for f in api.client().list_artifacts(finished[0].info.run_id)]
                if "model" not in paths:
                    raise CheckFailed("model folder of an autolog run", "model", paths)
            paired = [a - b for a, b in zip(on, off, strict=True)]
            figures[key] = max(statistics.median(paired), 0.0)
            figures[f"{key}_on_runs"] = on
            figures[f"{key}_off_runs"] = off
            if api.lib == "nbtrack":
                own_key = key.replace("_fit_ms", "_own_ms")
                figures[own_key] = statistics.median(own_per_fit)
                figures[f"{own_key}_runs"] = own_per_fit
    finally:
        limits.restore_original_limits()
        restore()
    return figures


def _time_autolog_steps(api: Api, spent: list[float]) -> Callable[[], None]:
    """Time nbtrack's autolog steps (ms appended to ``spent``); return the undo. MLflow: none."""
    if api.lib != "nbtrack":
        return lambda: None
    import functools

    sk = importlib.import_module("nbtrack.autologging.sklearn")
    originals = {name: getattr(sk, name) for name in ("_begin", "_finish")}

    def timed(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append((time.perf_counter() - start) * 1000)

        return wrapper

    # The fit wrapper looks the steps up in its module at each call.
    for name, function in originals.items():
        setattr(sk, name, timed(function))

    def restore() -> None:
        for name, function in originals.items():
            setattr(sk, name, function)

    return restore


def w2_log_metric(ctx: Context) -> dict[str, Any]:
    """``size`` ``log_metric`` calls in one run, then ``size`` points via ``log_batch``."""
    import resource

    n = ctx.size
    api = Api(ctx.lib)
    api.use_store(ctx.store)
    experiment_id = api.create_experiment("bench-w2", ctx.store)
    values = [math.sin(i / 100) for i in range(n)]
    log_metric = api.mod.log_metric
    with api.mod.start_run() as run:
        start = time.perf_counter()
        for i in range(n):
            log_metric("loss", values[i], step=i)
        last_call = time.perf_counter()
        api.flush()
        durable = time.perf_counter()

        client = api.client()
        batch_run = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        points = [api.metric("batch", values[i], now + i, i) for i in range(n)]
        chunk = BATCH_LIMIT[ctx.lib] or n
        batch_start = time.perf_counter()
        for j in range(0, n, chunk):
            client.log_batch(batch_run, metrics=points[j : j + chunk])
        api.flush()
        batch_s = time.perf_counter() - batch_start

        # Durable means another process sees every point: read back through a
        # new client in a new interpreter while the run is still open.
        pairs = [[run.info.run_id, "loss"], [batch_run, "batch"]]
        seen = run_worker(
            ctx.lib, "_history", store=ctx.store, params={"pairs": pairs}, env=dict(os.environ)
        )
        if not seen.get("ok"):
            raise RuntimeError(f"reading the history back failed: {seen.get('error')}")
        for (_, key), got, steps_ok in zip(pairs, seen["lengths"], seen["steps_ok"], strict=True):
            if got != n or not steps_ok:
                raise CheckFailed(f"history of {key!r} read from a new process", n, got)
        client.set_terminated(batch_run)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "version": api.version,
        "log_metric_us_per_call": (last_call - start) / n * 1e6,
        "durable_ms": (durable - last_call) * 1000,
        "sustained_points_per_s": n / (durable - start),
        "log_batch_points_per_s": n / batch_s,
        "log_batch_chunk": chunk,
        "peak_rss_mb": peak_kb / 1024,
        "history_read_back": seen["lengths"],
    }


def w3_create_runs(ctx: Context) -> dict[str, Any]:
    """Create ``size`` runs with 20 params, 5 metrics and 3 tags through the fluent API."""
    n = ctx.size
    api = Api(ctx.lib)
    api.use_store(ctx.store)
    experiment_id = api.create_experiment(f"bench-runs-{n}", ctx.store)
    runs = list(run_data(n))
    mlflow_like = api.mod
    start = time.perf_counter()
    for data in runs:
        with mlflow_like.start_run():
            mlflow_like.log_params(data.params)
            mlflow_like.log_metrics(data.metrics)
            mlflow_like.set_tags(data.tags)
    api.flush()
    elapsed = time.perf_counter() - start
    found = len(
        mlflow_like.search_runs(
            experiment_ids=[experiment_id], max_results=n + 1, output_format="list"
        )
    )
    if found != n:
        raise CheckFailed("runs found after W3", n, found)
    how = "W3: fluent start_run + log_params + log_metrics + set_tags per run"
    StoreInfo(experiment_id, n, how, elapsed).save(ctx.store)
    return {"version": api.version, "runs_per_s": n / elapsed, "elapsed_s": elapsed}


def w4_search(ctx: Context) -> dict[str, Any]:
    """Filtered + ordered ``search_runs`` and the all-runs DataFrame over ``size`` runs."""
    n = ctx.size
    api = Api(ctx.lib)
    info = StoreInfo.load(ctx.store)
    if info is None or info.n_runs != n:
        info = build_runs_store(api, ctx.store, n)
    else:
        api.use_store(ctx.store)
    ids = [info.experiment_id]

    def filtered() -> Any:
        return api.mod.search_runs(
            experiment_ids=ids, filter_string=FILTER, order_by=ORDER_BY, max_results=n
        )

    def all_runs() -> Any:
        return api.mod.search_runs(experiment_ids=ids, max_results=n)

    filtered()  # untimed: connects, imports pandas, warms SQLite's cache
    search_ms, found = _timed_ms(filtered, ctx.repeat)
    expected = expected_matches(n)
    if len(found) != expected:
        raise CheckFailed(f"rows matching {FILTER!r}", expected, len(found))
    if not found["metrics.m0"].is_monotonic_increasing:
        raise CheckFailed("rows ordered by metrics.m0 ASC", "ascending", "not ascending")
    all_ms, frame = _timed_ms(all_runs, ctx.repeat)
    if len(frame) != n:
        raise CheckFailed("rows in the all-runs DataFrame", n, len(frame))
    wanted = {"run_id", "params.p19", "metrics.m4", "tags.group"}
    if not wanted <= set(frame.columns):
        raise CheckFailed("columns of the all-runs DataFrame", sorted(wanted), list(frame.columns))
    return {
        "version": api.version,
        "store_built_by": info.built_by,
        "store_build_s": info.build_s,
        "search_ms": statistics.median(search_ms),
        "search_ms_runs": search_ms,
        "search_rows": len(found),
        "all_runs_df_ms": statistics.median(all_ms),
        "all_runs_df_ms_runs": all_ms,
        "all_runs_rows": len(frame),
        "all_runs_columns": len(frame.columns),
    }


def w5_history(ctx: Context) -> dict[str, Any]:
    """``get_metric_history`` of a ``size``-point metric, through a new client."""
    n = ctx.size
    api = Api(ctx.lib)
    api.use_store(ctx.store)
    experiment_id = api.create_experiment("bench-w5", ctx.store)
    writer = api.client()
    run_id = writer.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    points = [api.metric("loss", math.sin(i / 100), now + i, i) for i in range(n)]
    chunk = BATCH_LIMIT[ctx.lib] or n
    for j in range(0, n, chunk):
        writer.log_batch(run_id, metrics=points[j : j + chunk])
    writer.set_terminated(run_id)
    api.flush()
    # The reader starts from a clean heap, not one full of the writer's points.
    del points
    gc.collect()

    reader = api.client()
    history = reader.get_metric_history(run_id, "loss")  # untimed: connects
    if len(history) != n:
        raise CheckFailed("points in the metric history", n, len(history))
    times, history = _timed_ms(lambda: reader.get_metric_history(run_id, "loss"), ctx.repeat)
    if sorted(m.step for m in history) != list(range(n)):
        raise CheckFailed("steps in the metric history", f"0…{n - 1}", "gaps or duplicates")
    median = statistics.median(times)
    return {"version": api.version, "history_ms": median, "history_ms_runs": times}


def history_lengths(ctx: Context) -> dict[str, Any]:
    """W2's read-back: history lengths of ``params["pairs"]`` ([run_id, key]) via a new client."""
    api = Api(ctx.lib)
    api.use_store(ctx.store)
    client = api.client()
    lengths, steps_ok = [], []
    for run_id, key in ctx.params["pairs"]:
        history = client.get_metric_history(run_id, key)
        lengths.append(len(history))
        steps_ok.append(sorted(m.step for m in history) == list(range(len(history))))
    return {"version": api.version, "lengths": lengths, "steps_ok": steps_ok}


#: Workloads by name; names starting with ``_`` are helpers, not benchmarks.
WORKLOADS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "W1": w1_import,
    "W2": w2_log_metric,
    "W3": w3_create_runs,
    "W4": w4_search,
    "W5": w5_history,
    "W6": w6_kernel_hook,
    "P1": p1_first_point,
    "P2": p2_log_points,
    "W7": w7_scoring,
    "W8": w8_panels,
    "W9": w9_server,
    "_history": history_lengths,
    "_peer_read": peer_read,
    "_w9_log_metric": w9_log_metric,
}


def _timed_ms(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Time ``call`` ``repeat`` times; return the times in ms and the last result.

    A call slower than 2 s is timed at most 3 times: MLflow's all-runs
    DataFrame over 10,000 runs takes ~12 s, and three of those already give a
    stable median.
    """
    times: list[float] = []
    result = None
    while len(times) < repeat:
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
        if times[0] > _SLOW_CALL_MS and len(times) >= min(repeat, _SLOW_CALL_REPEAT):
            break
    return times, result


def _python(*args: str) -> str:
    """Run this interpreter with ``args``; return its stdout (raise if it fails)."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


def _launch_ms(*args: str) -> float:
    """Wall time of a whole ``python args`` process, interpreter start-up included."""
    start = time.perf_counter()
    _python(*args)
    return (time.perf_counter() - start) * 1000
