"""Measure ``nbtrack sync`` of an unchanged store of 1,000 runs (issue 13: <= 1 s).

Not a test (no wall-clock bounds in tests): run it as
``python tests/sync/measure_second_sync.py [RUNS]`` from the repository root.
It builds a local store of RUNS runs x 20 params x 5 metrics x 10 points with
one artifact each, starts a real ``nbtrack server`` process, syncs once, then
times further syncs: the ``sync()`` call in-process and ``nbtrack sync`` as a
command (interpreter start and imports included). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rest_server import ServerProcess

import nbtrack as nbt
from nbtrack.entities import Metric, Param
from nbtrack.sync.engine import sync


def main(runs: int) -> None:
    """Build, sync once, then time repeated syncs of the unchanged store."""
    root = Path(tempfile.mkdtemp(prefix="nbtrack-sync-bench-"))
    local = nbt.Client(str(root / "local"))
    exp = local.create_experiment("bench")
    t0 = time.perf_counter()
    for i in range(runs):
        run_id = local.create_run(exp, run_name=f"r{i}").info.run_id
        local.log_batch(
            run_id,
            params=[Param(f"p{k}", str(k * i)) for k in range(20)],
            metrics=[Metric(f"m{k}", s * 0.1, 1000 + s, s) for k in range(5) for s in range(10)],
        )
        local.log_text(run_id, f"run {i}", "notes.txt")
        local.set_terminated(run_id)
    build = time.perf_counter() - t0
    server = ServerProcess(str(root / "team"), root / "server.log")
    server.start()
    try:
        t0 = time.perf_counter()
        first = sync(local.store, server.url)
        first_s = time.perf_counter() - t0
        assert len(first.sent_runs) == runs, first.summary()
        in_process = []
        for _ in range(5):
            t0 = time.perf_counter()
            again = sync(local.store, server.url)
            in_process.append(time.perf_counter() - t0)
            assert not again.sent_runs and again.points == 0, again.summary()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        command = [sys.executable, "-m", "nbtrack", "--tracking-uri", str(root / "local")]
        command += ["sync", "--no-progress", "--to", server.url]
        cli = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            cli.append(time.perf_counter() - t0)
            assert "Sent 0 runs, 0 points" in out.stdout, out.stdout
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "runs": runs,
                "build_s": round(build, 2),
                "first_sync_s": round(first_s, 2),
                "second_sync_in_process_s": [round(x, 3) for x in in_process],
                "second_sync_cli_s": [round(x, 3) for x in cli],
                "loadavg": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
