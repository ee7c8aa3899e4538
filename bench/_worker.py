"""Run one workload in this interpreter and print its record as one JSON line.

``python -m bench._worker --lib mlflow --workload W2 --store DIR --size 10000``

The runner starts one of these per workload, in nbtrack's interpreter or in
the venv of the library it measures (MLflow, trackio, W&B, Aim). Only the
standard library is imported before the workload starts, so the worker runs
where nbtrack is not installed (the runner puts the repository on
``PYTHONPATH`` to make ``bench`` importable).

Exit status 0 with ``"ok": true``, or 1 with ``"ok": false`` and ``"error"``
(the traceback goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the workload, print its JSON line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench._worker", description=__doc__)
    libs = ["nbtrack", "mlflow", "trackio", "wandb", "aim"]
    parser.add_argument("--lib", required=True, choices=libs)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--params", type=json.loads, default={})
    args = parser.parse_args(argv)

    record: dict[str, object] = {"workload": args.workload, "lib": args.lib, "size": args.size}
    try:
        from bench.workloads import WORKLOADS, Context

        workload = WORKLOADS[args.workload]
        ctx = Context(args.lib, args.store.resolve(), args.size, args.repeat, args.params)
        record |= workload(ctx)
        record["ok"] = True
    # The worker is a process boundary: whatever went wrong is reported in the
    # JSON line the runner reads, with the traceback on stderr.
    except Exception as exc:
        traceback.print_exc()
        record |= {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    record["python"] = platform.python_version()
    print(json.dumps(record), flush=True)
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
