"""Measure ``import_mlflow`` of a bulk MLflow store (not a test: run it by hand).

    python tests/migrate/measure_import.py SOURCE_DB [--runs 1000 --points 1000]

Builds SOURCE_DB with MLflow 3.17's own client in its venv when it does not
exist (RUNS runs x 20 params x 5 metrics of POINTS points: the issue's
workload), then imports it into a fresh nbtrack SQLite store three times over
(a fresh target each time) and once more into the last target (nothing to
do), printing one JSON line per import with the load average beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _build(db: Path, runs: int, points: int) -> None:
    from mlflow_scripts import BULK

    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        TRACKING_URI=f"sqlite:///{db}",
        RUNS=str(runs),
        POINTS=str(points),
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    subprocess.run([python, "-c", BULK], env=env, check=True, cwd=db.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.source.exists():
        _build(args.source, args.runs, args.points)
    from nbtrack.migrate.importer import import_mlflow

    folder = Path(tempfile.mkdtemp(prefix="nbtrack-import-bench-"))
    target = ""
    for i in range(args.repeat + 1):
        if i < args.repeat:
            target = f"sqlite:///{folder / f'target{i}.db'}"
        start = time.perf_counter()
        summary = import_mlflow(f"sqlite:///{args.source}", target)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "import": "again (nothing to do)" if i == args.repeat else "fresh target",
                    "seconds": round(seconds, 2),
                    "runs": summary.runs,
                    "points": summary.points,
                    "points_per_s": round(summary.points / seconds) if summary.points else 0,
                    "loadavg": os.getloadavg(),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
