"""W9's moving parts outside HTTP: a fresh database per server, and the server process itself.

Each library gets its own PostgreSQL database per run (``bench_w9_nbtrack``,
``bench_w9_mlflow``, ``…_w2`` for the two-worker server), created empty before
its server starts and dropped after it stops. When PostgreSQL cannot be
reached, both libraries fall back to a SQLite file in the workload's folder
and the record says so. The database is created through SQLAlchemy, which
both venvs have, with the driver each library's server uses (psycopg 3 for
nbtrack, psycopg2 for MLflow; the runner installs the latter into MLflow's
venv).

The server runs as ``nbtrack server`` or ``mlflow server`` with this
interpreter, one process group per server, on a free port of 127.0.0.1.

Standard library only at module level: this also runs in MLflow's venv.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "POSTGRES",
    "Backend",
    "backend",
    "postgres_cpu_s",
    "server",
    "tree_cpu_s",
    "tree_rss_mb",
]

#: Where the databases are created (user, password, host, port); ``BENCH_POSTGRES`` overrides.
POSTGRES = os.environ.get("BENCH_POSTGRES", "nbtrack:nbtrack@127.0.0.1:5432")
# The SQLAlchemy driver each library's server is run with.
_DRIVER = {"nbtrack": "postgresql+psycopg", "mlflow": "postgresql+psycopg2"}
_START_DEADLINE_S = 180.0


@dataclass(frozen=True, slots=True)
class Backend:
    """The store a server runs over: its URI, its kind and, for a fallback, why."""

    uri: str
    kind: str
    note: str = ""


@contextmanager
def backend(lib: str, name: str, folder: Path) -> Iterator[Backend]:
    """A fresh PostgreSQL database ``name`` (dropped on exit), else a SQLite file in ``folder``."""
    problem = _postgres_problem(lib)
    if problem:
        folder.mkdir(parents=True, exist_ok=True)
        uri = str(folder) if lib == "nbtrack" else f"sqlite:///{folder / 'mlflow.db'}"
        yield Backend(uri, "sqlite", f"SQLite: PostgreSQL unreachable ({problem})")
        return
    _admin(lib, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(lib, f'CREATE DATABASE "{name}"')
    try:
        yield Backend(f"{_DRIVER[lib]}://{POSTGRES}/{name}", "postgresql")
    finally:
        _admin(lib, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_problem(lib: str) -> str:
    host, _, port = POSTGRES.rpartition("@")[2].partition(":")
    try:
        socket.create_connection((host, int(port or 5432)), timeout=3).close()
    except OSError as exc:
        return f"{host}:{port}: {exc}"
    try:
        _admin(lib, "SELECT 1")
    # Any driver or login failure means the same: no PostgreSQL for this run.
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _admin(lib: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_engine(f"{_DRIVER[lib]}://{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _command(lib: str, store: Backend, artifacts: Path, port: int, workers: int) -> list[str]:
    common = ["--backend-store-uri", store.uri, "--artifacts-destination", str(artifacts)]
    common += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if lib == "mlflow":
        return [sys.executable, "-m", "mlflow", "server", *common]
    return [sys.executable, "-c", "from nbtrack.cli.main import cli; cli()", "server", *common]


@contextmanager
def server(
    lib: str, store: Backend, folder: Path, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run ``lib``'s tracking server over ``store``; yield the process and its port once it answers.

    Its stderr goes to ``folder/server-<workers>.log``; a server that exits
    before answering ``/health`` raises with the end of that log.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = folder / f"server-{workers}.log"
    env = dict(os.environ)
    # MLflow's CLI starts `uvicorn` by name: the venv's, as if the venv were activated.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with log.open("wb") as err:
        proc = subprocess.Popen(
            _command(lib, store, folder / "artifacts", port, workers),
            cwd=folder,
            env=env,
            stdout=err,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one group: uvicorn's worker processes go with it
        )
    try:
        _wait_for_health(proc, port, log)
        yield proc, port
    finally:
        _stop(proc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    import urllib.request

    start = time.perf_counter()
    while True:
        if proc.poll() is not None:
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"the server exited with {proc.returncode}: {tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.perf_counter() - start > _START_DEADLINE_S:
            raise RuntimeError(f"no /health answer in {_START_DEADLINE_S:.0f} s: {log}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The group is the one server() started (start_new_session above).
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tree_rss_mb(pid: int) -> float | None:
    """RSS of ``pid`` and its descendants in MB (None where there is no /proc)."""
    if not Path("/proc").is_dir():
        return None
    total_kb = 0
    for member in _descendants(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        total_kb += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    return total_kb / 1024


def _descendants(pid: int) -> list[int]:
    proc, found, frontier = Path("/proc"), [], [pid]
    while frontier:
        member = frontier.pop()
        if member in found:
            continue
        found.append(member)
        for task in (proc / str(member) / "task").glob("*/children"):
            try:
                frontier += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return found


def _cpu_s(pid: int | str) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # the process has gone
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def tree_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants.

    None where there is no /proc.
    """
    if not Path("/proc").is_dir():
        return None
    return sum(_cpu_s(member) for member in _descendants(pid))


def postgres_cpu_s(store: Backend) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends serving ``store``'s database.

    PostgreSQL names each backend process after its database (``postgres: 15/main:
    user database host(port) state``), so the server's share of the database's CPU
    can be told from everyone else's on a shared machine. None for SQLite or
    without /proc (or when PostgreSQL runs elsewhere: then nothing matches, 0).
    A backend that exits before the second reading is lost: a server that opens
    and closes connections while measured (MLflow's, by the figures) shows less
    than it used.
    """
    if store.kind != "postgresql" or not Path("/proc").is_dir():
        return None
    name = f" {store.uri.rsplit('/', 1)[-1]} "
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if command.startswith("postgres:") and name in command:
            total += _cpu_s(entry.name)
    return total
