"""The REST store against real servers: errors, idempotent retries, credentials, outages.

The shared store tests already run against an nbtrack server through the
``tracking_uri`` fixture's ``rest`` backend; these are about what only HTTP
has. A recording server (Python's ``http.server`` on 127.0.0.1) shows what
the client really sends; the reliability tests SIGKILL a real server process
during ingest and restart it on the same port.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rest_server import ServerProcess, wait_until

import nbtrack as nbt
from nbtrack.entities import Metric, Param
from nbtrack.errors import (
    AlreadyExistsError,
    InvalidFilter,
    NbtrackWarning,
    NotFoundError,
    ParamConflict,
    RunNotActiveError,
    StoreError,
)
from nbtrack.store.rest import RestStore
from nbtrack.store.rest_batches import MAX_METRICS_PER_BATCH, encode_points, split_points
from nbtrack.store.rest_json import metric_json


@pytest.fixture
def rest_uri(tmp_dir: Path) -> Iterator[str]:
    """A fresh nbtrack server in a thread of this process, set as the tracking URI."""
    from backends import store_uri as _store_uri

    yield from _store_uri("rest", tmp_dir)


# -- a server that records what it is sent ---------------------------------------------


class Recorder:
    """An HTTP server answering scripted statuses and keeping every request's headers."""

    def __init__(self, statuses: list[int] | None = None, body: dict[str, Any] | None = None):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.body = body or {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                recorder.requests.append((self.command, self.path, dict(self.headers), data))
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                payload = json.dumps(
                    recorder.body if status == 200 else {"error_code": "X", "message": "no"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_bearer_token_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_TRACKING_TOKEN", "s3cret")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "not-this-one")
    with Recorder(body={"count": 3}) as rec:
        assert RestStore(rec.url).count_runs() == 3
    assert rec.requests[0][2]["Authorization"] == "Bearer s3cret"


def test_basic_credentials_fall_back_to_mlflow_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ada")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw:1")
    with Recorder(body={"count": 0}) as rec:
        RestStore(rec.url).count_runs()
    expected = "Basic " + base64.b64encode(b"ada:pw:1").decode()
    assert rec.requests[0][2]["Authorization"] == expected


def test_no_credentials_no_authorization_header(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    with Recorder(body={"count": 0}) as rec:
        RestStore(rec.url).count_runs()
    assert "Authorization" not in rec.requests[0][2]


def test_a_retried_request_keeps_its_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_HTTP_RETRIES", "4")
    with Recorder(statuses=[503, 502, 200]) as rec:
        RestStore(rec.url).log_batch("a" * 32, params=[Param("p", "1")])
    ids = [headers["Nbtrack-Request-Id"] for _, _, headers, _ in rec.requests]
    assert len(ids) == 3 and len(set(ids)) == 1 and len(ids[0]) == 32
    assert json.loads(rec.requests[0][3])["params"] == [{"key": "p", "value": "1"}]


def test_every_mutating_request_has_its_own_id() -> None:
    with Recorder() as rec:
        store = RestStore(rec.url)
        store.log_batch("a" * 32, params=[Param("p", "1")])
        store.log_batch("a" * 32, params=[Param("q", "1")])
        store.http.call("GET", "/api/2.0/nbtrack/runs/count")
    first, second, read = (headers for _, _, headers, _ in rec.requests)
    assert first["Nbtrack-Request-Id"] != second["Nbtrack-Request-Id"]
    assert "Nbtrack-Request-Id" not in read


def test_401_names_the_server_and_the_variables() -> None:
    with Recorder(statuses=[401]) as rec, pytest.raises(StoreError) as err:
        RestStore(rec.url).count_runs()
    assert rec.url in str(err.value)
    assert "NBTRACK_TRACKING_TOKEN" in str(err.value)
    assert "NBTRACK_TRACKING_USERNAME" in str(err.value)


def test_spent_budget_names_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_HTTP_RETRIES", "2")
    with Recorder(statuses=[503, 503, 503]) as rec, pytest.raises(StoreError) as err:
        RestStore(rec.url).count_runs()
    assert len(rec.requests) == 2
    assert rec.url in str(err.value) and "HTTP 503" in str(err.value)


def test_a_missing_route_is_a_store_error_naming_it(rest_uri: str) -> None:
    store = RestStore(rest_uri)
    with pytest.raises(StoreError) as err:
        store.http.call("GET", "/api/2.0/nbtrack/no-such-route")
    assert not isinstance(err.value, NotFoundError)
    assert "/api/2.0/nbtrack/no-such-route" in str(err.value)


# -- error bodies become nbtrack's errors ----------------------------------------------


def test_server_errors_become_the_sql_stores_errors(rest_uri: str) -> None:
    client = nbt.Client()
    with pytest.raises(NotFoundError):
        client.get_run("0" * 32)
    client.create_experiment("dup")
    with pytest.raises(AlreadyExistsError):
        client.create_experiment("dup")
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", 0.1)
    with pytest.raises(ParamConflict):
        client.log_param(run_id, "lr", 0.2)
    with pytest.raises(InvalidFilter):
        client.search_runs(["0"], "metrics.x >>> 1")
    client.set_terminated(run_id)
    # nbtrack's API refuses an ended run; the server, as MLflow's, refuses only a deleted one.
    with pytest.raises(RunNotActiveError, match="FINISHED"):
        client.log_param(run_id, "other", "1")
    client.store.log_batch(run_id, params=[Param("other", "1")])
    client.delete_run(run_id)
    with pytest.raises(RunNotActiveError, match="deleted"):
        client.store.log_batch(run_id, params=[Param("late", "1")])


def test_a_retried_batch_is_stored_once(rest_uri: str) -> None:
    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    points = [(run_id, "m", float(i), 1000 + i, i) for i in range(2500)]
    client.store.log_metric_points(points, request_id="ab" * 16)  # type: ignore[call-arg]
    client.store.log_metric_points(points, request_id="ab" * 16)  # type: ignore[call-arg]
    history = client.get_metric_history(run_id, "m")
    assert [m.step for m in history] == list(range(2500))


def test_log_batch_beyond_mlflows_limits_goes_in_several_requests(rest_uri: str) -> None:
    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    metrics = [Metric("m", float(i), 0, i) for i in range(MAX_METRICS_PER_BATCH * 2 + 5)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    client.store.log_batch(run_id, metrics=metrics, params=params, request_id="cd" * 16)
    client.store.log_batch(run_id, metrics=metrics, params=params, request_id="cd" * 16)
    assert len(client.get_metric_history(run_id, "m")) == len(metrics)
    assert len(client.get_run(run_id).data.params) == 150


def test_points_travel_in_batches_within_mlflows_limits() -> None:
    points = [("a", "m", 1.0, 0, i) for i in range(2500)] + [("b", "m", 1.0, 0, 0)]
    points += [("a", "k" * 250, 1.0, 0, i) for i in range(3000)]
    chunks = split_points(points)
    assert all(len(chunk) <= 1000 for _, chunk in chunks)
    assert all(sum(len(p[1]) + 80 for p in chunk) <= 1_000_000 for _, chunk in chunks)
    assert all({p[0] for p in chunk} == {run} for run, chunk in chunks)
    assert [p for _, chunk in chunks for p in chunk if p[0] == "a"] == [
        p for p in points if p[0] == "a"
    ]


def test_rest_store_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, nbtrack\n"
        "from nbtrack.store.rest import RestStore\n"
        "RestStore('http://127.0.0.1:9')\n"
        "import nbtrack.tracking.client\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- a real server process, killed and restarted ---------------------------------------


@pytest.fixture
def server(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    proc = ServerProcess(str(tmp_dir / "server-store"), tmp_dir / "server.log")
    proc.start()
    monkeypatch.setenv("NBTRACK_FLUSH_INTERVAL", "0.05")
    nbt.set_tracking_uri(proc.url)
    try:
        yield proc
    finally:
        from backends import reset_nbtrack_state as _reset_nbtrack_state

        if proc.proc is None or proc.proc.poll() is not None:
            proc.start()  # let the reset end the test's runs
        _reset_nbtrack_state()
        proc.stop()


@pytest.mark.slow
def test_sigkill_during_ingest_loses_nothing_and_stores_nothing_twice(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_HTTP_RETRIES", "40")  # ~2 minutes of backoff: outlives restarts
    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    stop = threading.Event()
    logged = [0]

    def ingest() -> None:
        while not stop.is_set():
            for _ in range(50):
                client.log_metric(run_id, "loss", float(logged[0]), timestamp=1, step=logged[0])
                logged[0] += 1
            stop.wait(0.001)

    writer = threading.Thread(target=ingest)
    writer.start()
    probe = RestStore(server.url)
    stored = 0
    for _ in range(2):
        # Let points reach the server, then kill it in the middle of the stream.
        stored = wait_until(
            lambda s=stored: (n := len(probe.get_metric_points(run_id, "loss"))) > s and n,
            60,
            "more points to reach the server",
        )
        server.kill()
        server.start()
    wait_until(lambda: len(probe.get_metric_points(run_id, "loss")) > stored, 60, "ingest again")
    stop.set()
    writer.join()
    total = logged[0]
    client.flush()
    steps = [m.step for m in client.get_metric_history(run_id, "loss")]
    assert len(steps) == total, f"{len(steps)} points stored, {total} logged"
    assert steps == list(range(total))
    client.set_terminated(run_id)
    assert client.get_run(run_id).info.status == "FINISHED"


@pytest.mark.slow
def test_one_warning_while_the_server_stays_down_then_the_points_arrive(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_HTTP_RETRIES", "2")
    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "m", 0.0, step=0)
    client.flush()
    server.kill()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NbtrackWarning)
        for step in range(1, 101):
            client.log_metric(run_id, "m", float(step), step=step)
        buffer = client._buffer
        # Several background flushes fail while the server is down.
        attempts = {"n": 0}
        real = buffer.store.log_metric_points

        def counting(points):  # type: ignore[no-untyped-def]
            attempts["n"] += 1
            return real(points)

        buffer.store.log_metric_points = counting  # type: ignore[method-assign]
        try:
            wait_until(lambda: attempts["n"] >= 4, 120, "four failed background flushes")
        finally:
            buffer.store.log_metric_points = real  # type: ignore[method-assign]
        ours = [w for w in caught if issubclass(w.category, NbtrackWarning)]
        assert len(ours) == 1, [str(w.message) for w in ours]
        assert server.url in str(ours[0].message)
        assert buffer.pending() == 100
        server.start()
        wait_until(lambda: buffer.pending() == 0, 60, "the kept points to be sent")
    steps = [m.step for m in client.get_metric_history(run_id, "m")]
    assert steps == list(range(101))


def test_encoded_batches_are_mlflows_json() -> None:
    points = [
        ("r" * 32, 'a "quoted" key/é', 0.1, 1, 0),
        ("r" * 32, "m", float("nan"), 2, 1),
        ("r" * 32, "m", float("inf"), 3, -2),
        ("r" * 32, "m", -float("inf"), 4, 3),
        ("r" * 32, "m", 1e-300, 5, 4),
    ]
    body = json.loads(encode_points("r" * 32, points))
    assert body == {
        "run_id": "r" * 32,
        "metrics": [metric_json(p[1], p[2], p[3], p[4]) for p in points],
    }
    assert [m["value"] for m in body["metrics"][1:4]] == ["NaN", "Infinity", "-Infinity"]


# -- artifacts through the server's proxy ----------------------------------------------


def test_artifacts_round_trip_through_the_proxy(rest_uri: str, tmp_path: Path) -> None:
    client = nbt.Client()
    run = client.create_run("0")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    run_id = run.info.run_id
    src = tmp_path / "src"
    (src / "sub dir").mkdir(parents=True)
    (src / "a#b.txt").write_bytes(b"A")
    (src / "50%25_off.txt").write_bytes(b"%")  # a name that looks percent-encoded keeps it
    (src / "sub dir" / "c d.bin").write_bytes(bytes(range(256)) * 10)
    client.log_artifacts(run_id, src, "tree")
    client.log_text(run_id, "hello", "notes/hello.txt")
    listed = client.list_artifacts(run_id, "tree")
    assert [(i.path, i.is_dir) for i in listed] == [
        ("tree/50%25_off.txt", False),
        ("tree/a#b.txt", False),
        ("tree/sub dir", True),
    ]
    out = Path(client.download_artifacts(run_id, "", tmp_path / "out"))
    assert (out / "tree" / "a#b.txt").read_bytes() == b"A"
    assert (out / "tree" / "50%25_off.txt").read_bytes() == b"%"
    assert (out / "tree" / "sub dir" / "c d.bin").read_bytes() == bytes(range(256)) * 10
    assert (out / "notes" / "hello.txt").read_text() == "hello"
    one = client.download_artifacts(run_id, "notes/hello.txt", tmp_path / "one")
    assert Path(one).read_text() == "hello"
    with pytest.raises(NotFoundError):
        client.download_artifacts(run_id, "missing.txt", tmp_path / "none")


@pytest.mark.slow
def test_a_large_artifact_streams_with_bounded_client_memory(
    server: ServerProcess, tmp_path: Path
) -> None:
    import hashlib
    import tracemalloc

    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as f:
        for i in range(200):  # 200 MiB
            chunk = bytes([i % 256]) * (1 << 20)
            digest.update(chunk)
            f.write(chunk)
    tracemalloc.start()
    try:
        client.log_artifact(run_id, big)
        local = client.download_artifacts(run_id, "big.bin", tmp_path / "back")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * (1 << 20), f"client peaked at {peak / (1 << 20):.0f} MiB"
    back = hashlib.sha256()
    with open(local, "rb") as f:
        while chunk := f.read(1 << 20):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
