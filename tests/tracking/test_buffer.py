"""The metric write-behind buffer: durable at run end, on flush, at exit, within a second,
and a process killed with SIGKILL loses at most the last interval — never earlier points."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import nbtrack as nbt

WRITER = textwrap.dedent(
    """
    import sys, time
    import nbtrack as nbt
    nbt.set_tracking_uri(sys.argv[1])
    run = nbt.start_run()
    print(run.info.run_id, flush=True)
    step = 0
    while True:
        nbt.log_metric("x", float(step), step=step)
        if step % 50 == 0:
            print(step, time.time(), flush=True)
        step += 1
        time.sleep(0.001)
    """
)


@pytest.mark.slow
def test_sigkill_loses_at_most_the_last_second(tmp_dir: Path) -> None:
    store = str(tmp_dir / "store")
    (tmp_dir / "writer.py").write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, "writer.py", store], stdout=subprocess.PIPE, text=True, cwd=tmp_dir
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    reported: list[tuple[int, float]] = []
    deadline = time.time() + 4.0
    while time.time() < deadline:
        step, at = proc.stdout.readline().split()
        reported.append((int(step), float(at)))
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait()

    steps = [m.step for m in nbt.Client(store).get_metric_history(run_id, "x")]
    # Never a gap: what survived is exactly the first N points, in order.
    assert steps == list(range(len(steps)))
    # Everything logged more than a second before the kill survived.
    must_have = max(step for step, at in reported if at < killed_at - 1.0)
    assert len(steps) > must_have


def test_points_become_durable_without_flush(tmp_dir: Path) -> None:
    store = str(tmp_dir / "store")
    nbt.set_tracking_uri(store)
    run = nbt.start_run()
    for step in range(10_000):
        nbt.log_metric("loss", 1.0 / (step + 1), step=step)
    # Read through SQL directly: a second client in this process would flush for us.
    # The flusher writes on its own (every second); the deadline only bounds a hang.
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_dir / 'store' / 'nbtrack.db'}")
    count, deadline = 0, time.monotonic() + 60
    try:
        while count < 10_000 and time.monotonic() < deadline:
            time.sleep(0.05)
            with engine.connect() as conn:
                count = conn.execute(
                    text("SELECT count(*) FROM metrics WHERE run_uuid = :r"),
                    {"r": run.info.run_id},
                ).scalar()
    finally:
        engine.dispose()
    assert count == 10_000
    nbt.end_run()


@pytest.mark.slow
def test_points_are_flushed_at_interpreter_exit(tmp_dir: Path) -> None:
    store = str(tmp_dir / "store")
    script = (
        "import nbtrack as nbt, sys\n"
        "nbt.set_tracking_uri(sys.argv[1])\n"
        "run = nbt.start_run()\n"
        "print(run.info.run_id)\n"
        "for i in range(5000): nbt.log_metric('m', i, step=i)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, store], capture_output=True, text=True, check=True
    )
    run_id = out.stdout.strip()
    client = nbt.Client(store)
    assert len(client.get_metric_history(run_id, "m")) == 5000
    assert client.get_run(run_id).info.status == "FINISHED"


@pytest.mark.slow
def test_a_crashing_script_leaves_its_run_failed(tmp_dir: Path) -> None:
    store = str(tmp_dir / "store")
    script = (
        "import nbtrack as nbt, sys\n"
        "nbt.set_tracking_uri(sys.argv[1])\n"
        "run = nbt.start_run()\n"
        "print(run.info.run_id, flush=True)\n"
        "nbt.log_metric('m', 1.0)\n"
        "raise SystemError('boom')\n"
    )
    out = subprocess.run([sys.executable, "-c", script, store], capture_output=True, text=True)
    assert out.returncode != 0
    run = nbt.Client(store).get_run(out.stdout.strip())
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"m": 1.0}


def test_flush_failure_keeps_points_for_the_next_try(tracking_uri: str) -> None:
    client = nbt.Client()
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "m", 1.0, step=0)
    client.log_metric(run_id, "m", 2.0, step=1)
    store = client.store
    real = store.log_metric_points
    calls = []

    def failing_once(points):  # type: ignore[no-untyped-def]
        calls.append(len(points))
        if len(calls) == 1:
            raise OSError("disk briefly unavailable")
        return real(points)

    store.log_metric_points = failing_once  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError):
            client.flush()
        client.flush()
    finally:
        store.log_metric_points = real  # type: ignore[method-assign]
    assert [m.value for m in client.get_metric_history(run_id, "m")] == [1.0, 2.0]


def test_log_batch_metrics_are_written_before_returning(client: nbt.Client) -> None:
    from nbtrack.entities import Metric

    run_id = client.create_run("0").info.run_id
    client.log_batch(run_id, metrics=[Metric("m", float(i), 0, i) for i in range(1000)])
    assert len(client.store.get_metric_history(run_id, "m")) == 1000
