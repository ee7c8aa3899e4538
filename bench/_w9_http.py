"""W9's HTTP side: one kept-alive connection, and N client processes sending pre-encoded bodies.

Both tracking servers speak MLflow's REST API, so one client serves both: the
bodies are encoded before the clock starts and are the same bytes for nbtrack
and MLflow. A client process sends its steps one after the other over one
kept-alive connection and reports when it started and finished (on Linux
``perf_counter`` is the system-wide monotonic clock, so the parent can take the
span from the first start to the last end), every request's latency and the
first failed answer.

A step's body may need the id of the run the same client has just created
(building W9's 10,000 runs: ``runs/create`` then ``runs/log-batch``): such a
step is a ``(head, tail)`` pair and the body is ``head + run_id + tail``, still
no encoding while timed.

Standard library only: this also runs in MLflow's venv.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Conn", "Step", "Swarm", "run_clients"]

#: ``(path, body)`` or ``(path, (head, tail))`` where the body is ``head + run_id + tail``.
Step = tuple[str, "bytes | tuple[bytes, bytes] | None"]

_CREATE = "/api/2.0/mlflow/runs/create"
_HEADERS = {"Content-Type": "application/json", "Connection": "keep-alive"}


class Conn:
    """One kept-alive HTTP/1.1 connection to ``127.0.0.1:port``.

    Parameters
    ----------
    port
        The server's port.
    timeout
        Seconds a request may take before it fails (bounds a hang only).
    """

    def __init__(self, port: int, timeout: float = 600.0) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        #: Requests sent a second time because the connection failed.
        self.retries = 0

    def request(self, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """POST ``body`` (GET without one) to ``path``; return the status and the answer's body."""
        method = "GET" if body is None else "POST"
        try:
            self._conn.request(method, path, body=body, headers=_HEADERS)
            response = self._conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            # The server closed the connection (idle, or cut an answer short, as
            # MLflow's did once under load: IncompleteRead): one fresh attempt, as
            # requests' pool would do. Counted, so a figure says it happened; a
            # repeated log-batch stores nothing twice on either server.
            self.retries += 1
            self._conn.close()
            self._conn.request(method, path, body=body, headers=_HEADERS)
            response = self._conn.getresponse()
            return response.status, response.read()

    def json(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send ``payload`` as JSON (GET without one); return the decoded answer (200 only)."""
        body = None if payload is None else json.dumps(payload).encode()
        status, answer = self.request(path, body)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {answer[:500]!r}")
        decoded: dict[str, Any] = json.loads(answer)
        return decoded

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


@dataclass(frozen=True, slots=True)
class Swarm:
    """What ``run_clients`` measured."""

    seconds: float
    requests: int
    latencies_ms: list[float]
    failures: list[str]
    retries: int = 0

    def percentile_ms(self, q: float) -> float:
        """The ``q`` quantile (0–1) of the request latencies."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run_clients(port: int, jobs: list[list[Step]], timeout: float = 1800.0) -> Swarm:
    """Send each job's steps from its own process, all processes at once; wait for all.

    The processes are forked after the bodies exist (nothing is encoded or
    copied while timed) and start together at a barrier.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=_client, args=(port, steps, barrier, results), daemon=True)
        for steps in jobs
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=timeout) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    failures = [f for report in reports for f in report["failures"]]
    latencies = [ms for report in reports for ms in report["latencies_ms"]]
    started = min(report["start"] for report in reports)
    ended = max(report["end"] for report in reports)
    retries = sum(report["retries"] for report in reports)
    return Swarm(ended - started, len(latencies), latencies, failures, retries)


def _client(port: int, steps: list[Step], barrier: Any, results: Any) -> None:
    latencies: list[float] = []
    failures: list[str] = []
    conn = Conn(port)
    run_id = b""
    barrier.wait()
    start = time.perf_counter()
    try:
        for path, payload in steps:
            body = payload if not isinstance(payload, tuple) else payload[0] + run_id + payload[1]
            sent = time.perf_counter()
            status, answer = conn.request(path, body)
            latencies.append((time.perf_counter() - sent) * 1000)
            if status != 200:
                failures.append(f"{path} answered {status}: {answer[:300]!r}")
                if len(failures) >= 5:
                    break
            elif path == _CREATE:
                run_id = json.loads(answer)["run"]["info"]["run_id"].encode()
    # A client is a process boundary: whatever broke is reported, not lost.
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    end = time.perf_counter()
    results.put(
        {
            "start": start,
            "end": end,
            "latencies_ms": latencies,
            "failures": failures,
            "retries": conn.retries,
        }
    )
