"""W7, the scoring server: ``nbtrack serve`` or ``mlflow models serve`` under a bounded load.

scikit-learn's LogisticRegression on iris is saved by the library under test,
served on 127.0.0.1 with one worker (MLflow with ``--env-manager local``, so
no environment is built), and loaded with a ``dataframe_split`` body of 1 row,
then of 1,000 rows, over 4 keep-alive connections (see ``bench._loadgen``).
Figures: requests/s, p50 and p99 latency per payload; seconds from launching
the command until ``/ping`` answers; RSS of the server's whole process tree
after the load (MLflow's CLI runs uvicorn as a child process). Each answer is
checked once before the load: a fast wrong answer is not a result.

Standard library only at module level: this also runs in MLflow's venv.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._loadgen import Load, fetch, run_load

__all__ = ["w7_scoring"]

# Without wrk, requests sent per second of the planned load (the run's "size"), per body.
_REQUESTS_PER_S = {1: 600, 1000: 120}
_WARMUP_REQUESTS = 50
_START_DEADLINE_S = 180.0


def w7_scoring(ctx: Any) -> dict[str, Any]:
    """Serve iris LogisticRegression with ``ctx.lib``; load it ``ctx.size`` s per body size."""
    seconds = max(1, ctx.size)
    folder, columns, rows, version = _save_model(ctx.lib, ctx.store / "model")
    bodies = {
        n: json.dumps({"dataframe_split": {"columns": columns, "data": _rows(rows, n)}}).encode()
        for n in (1, 1000)
    }
    port = _free_port()
    log = ctx.store / "server.log"
    start = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            _command(ctx.lib, folder, port),
            cwd=ctx.store,
            env=_server_env(ctx.lib),
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # one process group: MLflow's uvicorn child goes with it
        )
    try:
        ping_s = _wait_for_ping(proc, port, start, log)
        record: dict[str, Any] = {"version": version, "ping_s": ping_s}
        for n, body in bodies.items():
            _check_answer(port, body, n)
            for _ in range(_WARMUP_REQUESTS):
                fetch(port, "/invocations", body)
            load = run_load(port, body, seconds=seconds, requests=seconds * _REQUESTS_PER_S[n])
            if load.errors:
                raise RuntimeError(f"{load.errors} failed requests with {n}-row bodies")
            record |= _figures(load, n)
            record["load_generator"] = load.generator
        record["rss_mb"] = _tree_rss_mb(proc.pid)
        record["body_bytes_1000"] = len(bodies[1000])
        return record
    finally:
        _stop(proc)


def _save_model(lib: str, folder: Path) -> tuple[str, list[str], list[list[float]], str]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(X, y)
    if lib == "mlflow":
        import mlflow
        import mlflow.sklearn

        mlflow.sklearn.save_model(estimator, str(folder), input_example=X[:5])
        version = mlflow.__version__
    else:
        import nbtrack

        nbtrack.save_model(estimator, folder, input_example=X[:5])
        version = nbtrack.__version__
    return str(folder), [str(c) for c in X.columns], X.to_numpy().tolist(), version


def _rows(rows: list[list[float]], n: int) -> list[list[float]]:
    return [rows[i % len(rows)] for i in range(n)]


def _command(lib: str, folder: str, port: int) -> list[str]:
    if lib == "mlflow":
        return [
            sys.executable, "-m", "mlflow", "models", "serve", "-m", folder,
            "-h", "127.0.0.1", "-p", str(port), "-w", "1", "--env-manager", "local",
        ]  # fmt: skip
    return [
        sys.executable, "-c", "from nbtrack.cli.main import cli; cli()",
        "serve", folder, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def _server_env(lib: str) -> dict[str, str]:
    env = dict(os.environ)
    if lib == "mlflow":
        # MLflow 3 refuses to unpickle a model unless told that the folder is trusted.
        env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
        # It starts `uvicorn` by name: the venv's, as if the venv were activated.
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_ping(proc: subprocess.Popen[bytes], port: int, start: float, log: Path) -> float:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            if fetch(port, "/ping", timeout=1.0)[0] == 200:
                return time.perf_counter() - start
        except OSError:
            pass
        if time.perf_counter() - start > _START_DEADLINE_S:
            raise RuntimeError(f"no /ping answer in {_START_DEADLINE_S:.0f} s")
        time.sleep(0.01)


def _check_answer(port: int, body: bytes, n: int) -> None:
    from bench.workloads import CheckFailed

    status, answer = fetch(port, "/invocations", body, timeout=60.0)
    predictions = json.loads(answer).get("predictions") if status == 200 else None
    if not isinstance(predictions, list) or len(predictions) != n:
        raise CheckFailed(f"answer to a {n}-row body", f"{n} predictions", answer[:200])
    if predictions[0] != 0:
        raise CheckFailed("class of the first iris flower", 0, predictions[0])


def _figures(load: Load, n: int) -> dict[str, Any]:
    return {
        f"rps_{n}": load.per_s,
        f"p50_{n}_ms": load.p50_ms,
        f"p99_{n}_ms": load.p99_ms,
        f"requests_{n}": load.requests,
    }


def _tree_rss_mb(pid: int) -> float | None:
    """RSS of ``pid`` and all its descendants, from /proc (None where there is no /proc)."""
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        return None
    parents: dict[int, int] = {}
    for entry in proc_root.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces and parentheses: fields start after the last ")".
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    total_kb = 0
    for member in tree:
        try:
            status = (proc_root / str(member) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The group is the one this workload started (start_new_session above).
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
