"""The metric buffer against an nbtrack server: batches within MLflow's limits, sent once.

Requests are watched with httpx event hooks on the store's real connection to a
real server in this process; a hook that raises after the server has answered
stands for an answer lost on the way back.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import nbtrack as nbt
from nbtrack.errors import NbtrackWarning, RunNotActiveError


@pytest.fixture
def rest_client(tmp_dir: Path) -> Iterator[nbt.Client]:
    from backends import store_uri as _store_uri

    for uri in _store_uri("rest", tmp_dir):
        yield nbt.Client(uri)


def _watch(client: nbt.Client) -> list[tuple[str, str, dict]]:
    """Record (path, request id, JSON body) of every request the store sends."""
    sent: list[tuple[str, str, dict]] = []

    def record(request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content else {}
        sent.append((request.url.path, request.headers.get("Nbtrack-Request-Id", ""), body))

    client.store.http.client.event_hooks["request"].append(record)  # type: ignore[attr-defined]
    return sent


def test_log_metric_never_waits_for_the_server(rest_client: nbt.Client) -> None:
    run_id = rest_client.create_run("0").info.run_id
    callers: list[str] = []
    hooks = rest_client.store.http.client.event_hooks  # type: ignore[attr-defined]
    hooks["request"].append(lambda request: callers.append(threading.current_thread().name))
    for step in range(5000):
        rest_client.log_metric(run_id, "m", float(step), step=step)
    logging_thread = threading.current_thread().name
    # Whatever went out meanwhile was sent by the background flusher, not by log_metric.
    assert logging_thread not in callers
    rest_client.flush()
    assert len(rest_client.get_metric_history(run_id, "m")) == 5000


def test_points_leave_in_per_run_batches_within_mlflows_limits(rest_client: nbt.Client) -> None:
    a = rest_client.create_run("0").info.run_id
    b = rest_client.create_run("0").info.run_id
    sent = _watch(rest_client)
    points = [(a, "m", float(i), 1, i) for i in range(2500)] + [(b, "m", 1.0, 1, 0)]
    rest_client._buffer.extend(points)
    rest_client.flush()
    batches = [(rid, body) for path, rid, body in sent if path.endswith("/runs/log-batch")]
    assert sorted(len(body["metrics"]) for _, body in batches) == [1, 500, 1000, 1000]
    assert all(len(json.dumps(body)) < 1_000_000 for _, body in batches)
    assert len({rid for rid, _ in batches}) == len(batches)
    assert {body["run_id"] for _, body in batches} == {a, b}
    assert len(rest_client.get_metric_history(a, "m")) == 2500


def test_a_batch_whose_answer_is_lost_is_resent_with_its_id_and_stored_once(
    rest_client: nbt.Client,
) -> None:
    run_id = rest_client.create_run("0").info.run_id
    sent = _watch(rest_client)
    lost = {"n": 0}

    def lose_first_answer(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/runs/log-batch") and not lost["n"]:
            lost["n"] += 1
            raise httpx.ReadError("connection reset after the server stored the batch")

    hooks = rest_client.store.http.client.event_hooks  # type: ignore[attr-defined]
    hooks["response"].append(lose_first_answer)
    for step in range(300):
        rest_client.log_metric(run_id, "m", float(step), step=step)
    rest_client.flush()
    ids = [rid for path, rid, _ in sent if path.endswith("/runs/log-batch")]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert [m.step for m in rest_client.get_metric_history(run_id, "m")] == list(range(300))


def test_points_of_a_deleted_run_are_dropped_with_a_warning_others_kept(
    rest_client: nbt.Client,
) -> None:
    gone = rest_client.create_run("0").info.run_id
    kept = rest_client.create_run("0").info.run_id
    rest_client.log_metric(gone, "m", 1.0)
    rest_client.log_metric(kept, "m", 2.0)
    rest_client.store.delete_run(gone)  # behind the client's back: its points are queued
    # The background flusher may be the one to meet the refusal: record from every thread.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NbtrackWarning)
        rest_client.flush()
    messages = [str(w.message) for w in caught if issubclass(w.category, NbtrackWarning)]
    assert messages == [
        f"Dropped 1 metric points of run {gone}: the server refused them "
        f"({RunNotActiveError(gone, 'deleted')})"
    ]
    assert [m.value for m in rest_client.get_metric_history(kept, "m")] == [2.0]
    assert rest_client._buffer.pending() == 0


def test_set_terminated_sends_the_points_then_the_end(rest_client: nbt.Client) -> None:
    run_id = rest_client.create_run("0").info.run_id
    for step in range(1200):
        rest_client.log_metric(run_id, "m", float(step), step=step)
    sent = _watch(rest_client)
    rest_client.set_terminated(run_id)
    paths = [p for p, _, _ in sent]
    assert paths[-1] == "/api/2.0/nbtrack/runs/end"
    assert all(rid for _, rid, _ in sent)
    run = rest_client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 1199.0}
    assert len(rest_client.get_metric_history(run_id, "m")) == 1200
