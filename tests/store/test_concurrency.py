"""Several processes writing one SQLite store at once: no error surfaces, no point is lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import nbtrack as nbt

PROCESSES = 8
POINTS = 2000


def _writer(
    folder: str,
    index: int,
    barrier: multiprocessing.synchronize.Barrier,
    out: multiprocessing.Queue,
) -> None:
    import nbtrack

    try:
        nbtrack.set_tracking_uri(folder)
        barrier.wait()
        with nbtrack.start_run(run_name=f"writer-{index}") as run:
            nbtrack.log_param("index", index)
            for step in range(POINTS):
                nbtrack.log_metric("loss", 1.0 / (step + 1), step=step)
                if step % 500 == 0:
                    nbtrack.set_tag("progress", str(step))
                    nbtrack.flush()
        out.put(("ok", run.info.run_id))
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_eight_processes_log_into_one_sqlite_store(tmp_dir: Path) -> None:
    folder = str(tmp_dir / "store")
    nbt.Client(folder)  # create the store up front; racing creation has its own test
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(folder, i, barrier, out)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [r[0] for r in results] == ["ok"] * PROCESSES, results
    client = nbt.Client(folder)
    total = 0
    for _, run_id in results:
        history = client.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(POINTS))
        total += len(history)
    assert total == PROCESSES * POINTS
    nbt.set_tracking_uri(folder)
    runs = nbt.search_runs(output_format="list")
    assert sorted(r.data.params["index"] for r in runs) == [str(i) for i in range(PROCESSES)]
    assert {r.info.status for r in runs} == {"FINISHED"}
