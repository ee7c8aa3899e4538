"""W9, the tracking server: ``nbtrack server`` or ``mlflow server`` over PostgreSQL, over HTTP.

One server process (``--workers 1``) on 127.0.0.1 over a fresh database of
its own (see ``bench._w9_servers``), driven through MLflow's REST API with
bodies encoded before the clock starts, byte for byte the same for both
libraries (only the run ids differ; ``payload_sha256`` hashes them without):

- ``log-batch`` ingest: 8 client processes, one run each, kept-alive
  connections, 1,000 metric points per request (MLflow's limit); points/s
  over the whole span, then every point counted back through
  ``metrics/get-history`` (goal ≥ 100,000 points/s). The same again on a
  server with ``--workers 2`` over a database of its own.
- ``runs/create`` p50, one connection, one request at a time (goal ≤ 3 ms).
- ``runs/search`` over ``size`` runs (20 params, 5 metrics, 3 tags each,
  W4's seeded data, built through ``runs/create`` + ``runs/log-batch`` by 8
  clients) with W4's filter and order (goal ≤ 50 ms p50); the rows are
  checked against the seeded data, so both libraries must return the same.
- ``metrics/get-history`` of a ``size``-point metric (goal ≤ 20 ms p50).
- the library's own ``log_metric`` against the server, from a fresh
  interpreter: µs per call (nbtrack's goal ≤ 5 µs) and, for nbtrack, the time
  from the last call until ``flush()`` returns, the points then being read back
  through the API; MLflow's call is synchronous (durable when it returns).

Standard library only at module level: this also runs in MLflow's venv.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import time
from typing import Any

from bench._proc import run_worker
from bench._stores import FILTER, ORDER_BY, expected_matches, run_data
from bench._w9_http import Conn, Step, Swarm, run_clients
from bench._w9_servers import Backend, backend, postgres_cpu_s, server, tree_cpu_s, tree_rss_mb

__all__ = ["w9_log_metric", "w9_server"]

CLIENTS = 8
BATCH = 1000  # metric points per log-batch request: MLflow's limit
KEYS = 10  # metric keys per ingest run: each request carries 100 steps of each
# Fixed timestamps, so both libraries get the same bytes.
_T0 = 1_700_000_000_000
_API = "/api/2.0/mlflow"


def _sizes(n: int) -> dict[str, int]:
    """What ``size`` runs (10,000, or 1,000 with --quick) means for each part of W9."""
    scale = n / 10_000
    return {
        "requests_per_client": max(2, round(12 * scale)),  # 8 × 12 × 1,000 = 96,000 points
        "creates": max(20, round(200 * scale)),
        "history_points": n,
        "log_metric_calls_nbtrack": n,
        # MLflow's log_metric is one HTTP round trip: a tenth of the calls gives the same mean.
        "log_metric_calls_mlflow": max(100, n // 10),
    }


def w9_server(ctx: Any) -> dict[str, Any]:
    """Run W9 for ``ctx.lib``: servers over fresh databases, the figures of every part."""
    sizes = _sizes(ctx.size)
    repeat = max(ctx.repeat, 10)
    record: dict[str, Any] = {"clients": CLIENTS, "batch": BATCH, **sizes}
    # The machine's other work skews every figure here; the load says how much.
    record["load_average_start"] = list(os.getloadavg())
    with backend(ctx.lib, f"bench_w9_{ctx.lib}", ctx.store / "db-1") as store:
        record |= {"backend": store.kind, "note": store.note}
        with server(ctx.lib, store, ctx.store / "server-1", workers=1) as (proc, port):
            conn = Conn(port)
            record["version"] = _version(conn)
            record |= _ingest(conn, port, sizes["requests_per_client"], "", proc.pid, store)
            record["server_rss_mb"] = tree_rss_mb(proc.pid)
            record |= _create_p50(conn, sizes["creates"])
            record |= _search(conn, port, ctx.size, repeat)
            record |= _history(conn, sizes["history_points"], repeat)
            record |= _log_metric(ctx, port, sizes)
            conn.close()
    with (
        backend(ctx.lib, f"bench_w9_{ctx.lib}_w2", ctx.store / "db-2") as store,
        server(ctx.lib, store, ctx.store / "server-2", workers=2) as (proc, port),
    ):
        conn = Conn(port)
        record |= _ingest(conn, port, sizes["requests_per_client"], "_w2", proc.pid, store)
        conn.close()
    record["load_average_end"] = list(os.getloadavg())
    return record


def _version(conn: Conn) -> str:
    status, answer = conn.request("/version")
    return answer.decode().strip() if status == 200 else "unknown"


def _experiment(conn: Conn, name: str) -> str:
    return str(conn.json(f"{_API}/experiments/create", {"name": name})["experiment_id"])


def _create_body(experiment_id: str, name: str, start_time: int) -> bytes:
    payload = {"experiment_id": experiment_id, "start_time": start_time, "run_name": name}
    return json.dumps(payload, separators=(",", ":")).encode()


def _new_run(conn: Conn, experiment_id: str, name: str) -> str:
    answer = conn.json(f"{_API}/runs/create", json.loads(_create_body(experiment_id, name, _T0)))
    return str(answer["run"]["info"]["run_id"])


def _batch_tail(metrics: list[dict[str, Any]], params: Any = (), tags: Any = ()) -> bytes:
    """Everything of a log-batch body after the run id (see ``bench._w9_http.Step``)."""
    rest = {"metrics": metrics, "params": list(params), "tags": list(tags)}
    return b'",' + json.dumps(rest, separators=(",", ":")).encode()[1:]


def _ingest_metrics(client: int, request: int) -> list[dict[str, Any]]:
    metrics = []
    for j in range(BATCH):
        step = request * (BATCH // KEYS) + j // KEYS
        value = math.sin(client + step / 50 + j % KEYS)
        point = {"key": f"m{j % KEYS}", "value": value, "timestamp": _T0 + step, "step": step}
        metrics.append(point)
    return metrics


def _ingest(
    conn: Conn, port: int, requests: int, suffix: str, pid: int, store: Backend
) -> dict[str, Any]:
    """8 clients × ``requests`` log-batch requests of 1,000 points; count them back.

    Beside the rate, the CPU the server's processes and the database's backends
    spent per request while the clients ran: on a machine of two cores, what
    bounds the rate, whatever else the machine is doing.
    """
    experiment_id = _experiment(conn, f"bench-w9-ingest{suffix}")
    # One untimed request first: the server's first write (imports, pool) is not ingest.
    warm = _new_run(conn, experiment_id, "warm-up")
    head = b'{"run_id":"'
    warm_status, warm_answer = conn.request(
        f"{_API}/runs/log-batch", head + warm.encode() + _batch_tail(_ingest_metrics(0, 0))
    )
    if warm_status != 200:
        raise RuntimeError(f"log-batch answered {warm_status}: {warm_answer[:500]!r}")
    runs = [_new_run(conn, experiment_id, f"ingest-{c}") for c in range(CLIENTS)]
    digest = hashlib.sha256()
    jobs: list[list[Step]] = []
    for c, run_id in enumerate(runs):
        tails = [_batch_tail(_ingest_metrics(c, r)) for r in range(requests)]
        for tail in tails:
            digest.update(tail)
        jobs.append([(f"{_API}/runs/log-batch", head + run_id.encode() + t) for t in tails])
    cpu_before = tree_cpu_s(pid), postgres_cpu_s(store)
    swarm = run_clients(port, jobs)
    cpu_after = tree_cpu_s(pid), postgres_cpu_s(store)
    _raise_failures(swarm, "ingest")
    sent = CLIENTS * requests * BATCH
    per_request = [
        None if a is None or b is None else (b - a) / (CLIENTS * requests) * 1000
        for a, b in zip(cpu_before, cpu_after, strict=True)
    ]
    stored = _count_points(conn, runs, requests)
    if stored != sent:
        from bench.workloads import CheckFailed

        raise CheckFailed("points stored after ingest (read through get-history)", sent, stored)
    return {
        f"ingest_points_per_s{suffix}": sent / swarm.seconds,
        f"ingest_s{suffix}": swarm.seconds,
        f"ingest_p50_ms{suffix}": swarm.percentile_ms(0.5),
        f"ingest_p99_ms{suffix}": swarm.percentile_ms(0.99),
        f"ingest_points{suffix}": sent,
        f"ingest_points_read_back{suffix}": stored,
        f"ingest_retries{suffix}": swarm.retries,
        f"ingest_server_cpu_ms_per_request{suffix}": per_request[0],
        f"ingest_postgres_cpu_ms_per_request{suffix}": per_request[1],
        "payload_sha256": digest.hexdigest(),
    }


def _count_points(conn: Conn, runs: list[str], requests: int) -> int:
    """Points of the ingest runs read back, raising if a step is missing or doubled."""
    from bench.workloads import CheckFailed

    total = 0
    steps = list(range(requests * (BATCH // KEYS)))
    for run_id in runs:
        for k in range(KEYS):
            history = conn.json(f"{_API}/metrics/get-history?run_id={run_id}&metric_key=m{k}")
            got = sorted(int(m["step"]) for m in history.get("metrics", []))
            if got != steps:
                raise CheckFailed(f"steps of m{k} in run {run_id}", f"0…{steps[-1]}", got[:20])
            total += len(got)
    return total


def _raise_failures(swarm: Swarm, what: str) -> None:
    if swarm.failures:
        raise RuntimeError(f"{what}: {len(swarm.failures)} failed requests: {swarm.failures[:3]}")


def _create_p50(conn: Conn, n: int) -> dict[str, Any]:
    """``runs/create`` one at a time over one connection: p50 and p99 after 10 untimed calls."""
    experiment_id = _experiment(conn, "bench-w9-create")
    bodies = [_create_body(experiment_id, f"create-{i}", _T0 + i) for i in range(n + 10)]
    times = []
    for i, body in enumerate(bodies):
        start = time.perf_counter()
        status, answer = conn.request(f"{_API}/runs/create", body)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise RuntimeError(f"runs/create answered {status}: {answer[:500]!r}")
        if i >= 10:
            times.append(elapsed)
    ordered = sorted(times)
    return {
        "create_p50_ms": statistics.median(times),
        "create_p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "create_ms_runs": times,
    }


def _search(conn: Conn, port: int, n: int, repeat: int) -> dict[str, Any]:
    """Build ``n`` runs through the API with 8 clients, then time W4's filtered search."""
    from bench.workloads import CheckFailed

    experiment_id = _experiment(conn, f"bench-w9-runs-{n}")
    jobs: list[list[Step]] = [[] for _ in range(CLIENTS)]
    for i, data in enumerate(run_data(n)):
        metrics = [
            {"key": k, "value": v, "timestamp": _T0 + i, "step": 0} for k, v in data.metrics.items()
        ]
        params = [{"key": k, "value": v} for k, v in data.params.items()]
        tags = [{"key": k, "value": v} for k, v in data.tags.items()]
        jobs[i % CLIENTS] += [
            (f"{_API}/runs/create", _create_body(experiment_id, f"bench-run-{i}", _T0 + i)),
            (f"{_API}/runs/log-batch", (b'{"run_id":"', _batch_tail(metrics, params, tags))),
        ]
    swarm = run_clients(port, jobs)
    _raise_failures(swarm, f"building {n} runs")

    query = {"experiment_ids": [experiment_id], "filter": FILTER, "order_by": ORDER_BY}
    body = json.dumps(query | {"max_results": n}).encode()
    conn.request(f"{_API}/runs/search", body)  # untimed: the database's caches
    times, answer = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        status, answer = conn.request(f"{_API}/runs/search", body)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"runs/search answered {status}: {answer[:500]!r}")
    found = json.loads(answer)
    rows = found.get("runs", [])
    expected = expected_matches(n)
    if len(rows) != expected or found.get("next_page_token"):
        raise CheckFailed(f"rows matching {FILTER!r}", expected, len(rows))
    m0 = [next(m["value"] for m in r["data"]["metrics"] if m["key"] == "m0") for r in rows]
    if m0 != sorted(m0):
        raise CheckFailed("rows ordered by metrics.m0 ASC", "ascending", "not ascending")
    return {
        "build_runs_per_s": n / swarm.seconds,
        "build_s": swarm.seconds,
        "build_retries": swarm.retries,
        "search_p50_ms": statistics.median(times),
        "search_ms_runs": times,
        "search_rows": len(rows),
        "search_answer_bytes": len(answer),
    }


def _history(conn: Conn, n: int, repeat: int) -> dict[str, Any]:
    """``metrics/get-history`` of an ``n``-point metric (logged in batches of 1,000)."""
    from bench.workloads import CheckFailed

    run_id = _new_run(conn, _experiment(conn, "bench-w9-history"), "history")
    for j in range(0, n, BATCH):
        points = [
            {"key": "loss", "value": math.sin(i / 100), "timestamp": _T0 + i, "step": i}
            for i in range(j, min(n, j + BATCH))
        ]
        conn.json(f"{_API}/runs/log-batch", {"run_id": run_id, "metrics": points})
    path = f"{_API}/metrics/get-history?run_id={run_id}&metric_key=loss"
    conn.request(path)  # untimed
    times, answer = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        status, answer = conn.request(path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"get-history answered {status}: {answer[:500]!r}")
    steps = sorted(int(m["step"]) for m in json.loads(answer).get("metrics", []))
    if steps != list(range(n)):
        raise CheckFailed("steps in the metric history", f"0…{n - 1}", f"{len(steps)} points")
    return {"history_p50_ms": statistics.median(times), "history_ms_runs": times}


def _log_metric(ctx: Any, port: int, sizes: dict[str, int]) -> dict[str, Any]:
    """The library's ``log_metric`` against the server, in a fresh interpreter (a notebook's)."""
    calls = sizes[f"log_metric_calls_{ctx.lib}"]
    seen = run_worker(
        ctx.lib,
        "_w9_log_metric",
        store=ctx.store / "log-metric",
        params={"port": port, "calls": calls},
        env=dict(os.environ),
    )
    if not seen.get("ok"):
        raise RuntimeError(f"log_metric against the server failed: {seen.get('error')}")
    return {k: v for k, v in seen.items() if k.startswith("log_metric")}


def w9_log_metric(ctx: Any) -> dict[str, Any]:
    """``params["calls"]`` ``log_metric`` calls in one run against the server on ``params["port"]``.

    nbtrack buffers and sends ``log-batch`` requests; the figure after the
    calls is the time until ``flush()`` returns. Either way the points are
    then counted through ``get-history``.
    """
    from bench.workloads import CheckFailed

    port, n = ctx.params["port"], ctx.params["calls"]
    lib = __import__(ctx.lib)
    lib.set_tracking_uri(f"http://127.0.0.1:{port}")
    lib.set_experiment("bench-w9-log-metric")
    values = [math.sin(i / 100) for i in range(n)]
    log_metric = lib.log_metric
    with lib.start_run() as run:
        log_metric("warm-up", 0.0, step=0)  # untimed: the first call creates the connection
        start = time.perf_counter()
        for i in range(n):
            log_metric("loss", values[i], step=i)
        last_call = time.perf_counter()
        if ctx.lib == "nbtrack":
            lib.flush()
        durable = time.perf_counter()
        history = Conn(port).json(
            f"{_API}/metrics/get-history?run_id={run.info.run_id}&metric_key=loss"
        )
    got = len(history.get("metrics", []))
    if got != n:
        raise CheckFailed("log_metric points on the server after flush", n, got)
    return {
        "log_metric_us_per_call": (last_call - start) / n * 1e6,
        "log_metric_durable_ms": (durable - last_call) * 1000,
        "log_metric_calls": n,
        "log_metric_read_back": got,
    }
