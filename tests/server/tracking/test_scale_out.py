"""Scale-out: two ``nbtrack server`` processes over one PostgreSQL database, written to at once.

The server keeps no state between requests, so any number of them can stand
behind a load balancer. Here two real server processes on two ports share a
fresh schema (both started at the same moment, so both open the empty schema
together), and 8 client threads, each an ``nbtrack.Client`` on an ``http://``
tracking URI (the REST store), half through each server, create runs and log
metric batches, params, tags and buffered ``log_metric`` points into one run
they all share. Afterwards, read through either server: every point is there
exactly once, run ids are unique, latest metrics are the points of the highest
step, and the same searches give the same runs in the same order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import nbtrack
from nbtrack.entities import Metric, Param, RunTag

POSTGRES_URI = os.environ.get("NBTRACK_TEST_POSTGRES_URI")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URI, reason="needs NBTRACK_TEST_POSTGRES_URI"),
]

CLIENTS = 8
RUNS_PER_CLIENT = 2
BATCHES_PER_RUN = 2  # of 1,000 points each: MLflow's log-batch limit
SHARED_POINTS = 250  # buffered log_metric points per client into the shared run
T0 = 1_700_000_000_000
FILTER = "metrics.score >= 40 and params.run = '1'"


@pytest.fixture
def schema_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (dropped afterwards), as a store URI."""
    from sqlalchemy import create_engine, text

    assert POSTGRES_URI
    schema = f"t_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URI)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URI else "?"
    try:
        yield f"{POSTGRES_URI}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90  # bounds a hang only
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"nbtrack server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nbtrack server did not answer: {log.read_text()[-3000:]}")
        time.sleep(0.05)


@pytest.fixture
def two_servers(schema_uri: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two ``nbtrack server`` processes over the same schema, started together; their URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    artifacts = tmp_path / "artifacts"
    started = []
    for name in ("a", "b"):
        port, log = _port(), tmp_path / f"server-{name}.log"
        args = [sys.executable, "-m", "nbtrack", "server", "--port", str(port)]
        args += ["--backend-store-uri", schema_uri, "--artifacts-destination", str(artifacts)]
        with log.open("ab") as out:
            proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append((proc, f"http://127.0.0.1:{port}", log))
    try:
        for proc, url, log in started:
            _wait_healthy(proc, url, log)
        yield started[0][1], started[1][1]
    finally:
        for proc, _, _ in started:
            proc.terminate()
        for proc, _, _ in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def _score(client: int, run: int) -> float:
    return float(client * 10 + run)


def _write(
    client_no: int, url: str, experiment_id: str, shared: str, start: threading.Barrier
) -> list[str]:
    """One client's work through the server at ``url``; return the ids of the runs it made."""
    client = nbtrack.Client(url)
    start.wait(timeout=60)
    run_ids = []
    for r in range(RUNS_PER_CLIENT):
        run_id = client.create_run(experiment_id, run_name=f"c{client_no}-r{r}").info.run_id
        for b in range(BATCHES_PER_RUN):
            steps = range(b * 1000, (b + 1) * 1000)
            points = [Metric("loss", 1.0 / (1 + s), T0 + s, s) for s in steps]
            params = [Param("client", str(client_no)), Param("run", str(r))] if b == 0 else []
            client.log_batch(run_id, metrics=points, params=params)
        client.log_batch(
            run_id,
            metrics=[Metric("score", _score(client_no, r), T0, 0)],
            tags=[RunTag("via", url)],
        )
        client.set_terminated(run_id)
        run_ids.append(run_id)
    # Buffered points into the run every client shares: disjoint steps per client.
    for s in range(SHARED_POINTS):
        step = client_no * SHARED_POINTS + s
        client.log_metric(shared, "shared", float(client_no), timestamp=T0 + step, step=step)
    client.flush()
    return run_ids


def test_two_servers_over_one_database_lose_and_double_nothing(
    two_servers: tuple[str, str],
) -> None:
    a, b = two_servers
    experiment_id = nbtrack.Client(a).create_experiment("scale-out")
    shared = nbtrack.Client(b).create_run(experiment_id, run_name="shared").info.run_id
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [
            pool.submit(_write, c, (a, b)[c % 2], experiment_id, shared, start)
            for c in range(CLIENTS)
        ]
        made = [f.result(timeout=600) for f in futures]

    run_ids = [run_id for ids in made for run_id in ids]
    assert len(run_ids) == CLIENTS * RUNS_PER_CLIENT
    assert len(set(run_ids) | {shared}) == len(run_ids) + 1

    every_step = list(range(BATCHES_PER_RUN * 1000))
    shared_steps = list(range(CLIENTS * SHARED_POINTS))
    for url in (a, b):
        reader = nbtrack.Client(url)
        for c, ids in enumerate(made):
            for r, run_id in enumerate(ids):
                history = reader.get_metric_history(run_id, "loss")
                assert [m.step for m in history] == every_step, (url, run_id)
                run = reader.get_run(run_id)
                assert run.data.params == {"client": str(c), "run": str(r)}
                last_loss = 1.0 / (1 + every_step[-1])
                assert run.data.metrics == {"loss": last_loss, "score": _score(c, r)}
                assert run.data.tags["via"] == (a, b)[c % 2]
        points = reader.get_metric_history(shared, "shared")
        assert sorted(m.step for m in points) == shared_steps, url
        assert all(m.value == m.step // SHARED_POINTS for m in points)
        # The latest value is the highest step's, whichever server wrote it last.
        assert reader.get_run(shared).data.metrics["shared"] == float(CLIENTS - 1)

    # Clients 4-7's second runs, best score first.
    expected = [made[c][1] for c in reversed(range(4, CLIENTS))]
    filtered, everything = {}, {}
    for url in (a, b):
        reader = nbtrack.Client(url)
        runs = reader.search_runs(
            experiment_id,
            "metrics.score >= 40 and params.run = '1'",
            order_by=["metrics.score DESC"],
        )
        filtered[url] = [run.info.run_id for run in runs]
        runs = reader.search_runs(experiment_id, order_by=["attributes.run_name ASC"])
        everything[url] = [run.info.run_id for run in runs]
        assert reader.count_runs() == len(run_ids) + 1
    assert filtered[a] == filtered[b] == expected
    assert everything[a] == everything[b]
    assert set(everything[a]) == {*run_ids, shared}
