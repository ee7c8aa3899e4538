"""``python -m bench``: run the workloads, print the table, write ``results/latest.json``.

Examples
--------
``python -m bench``                          nbtrack only, W1–W6
``python -m bench --against mlflow``         nbtrack and MLflow 3.17 side by side
``python -m bench --against mlflow,trackio,wandb,aim --workloads peers``
                                             import, first point, logging, history for all five
``python -m bench --workloads W1,W5 --quick``  a smoke run at a tenth of the sizes
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.peers import PEER_SPECS, PEER_WORKLOADS, PeerUnavailable, ensure_peer
from bench.report import render_table, rows, skip_reasons
from bench.runner import (
    ALL_WORKLOADS,
    OPT_IN_WORKLOADS,
    Plan,
    default_cache_dir,
    ensure_mlflow,
    ensure_postgres_driver,
    environment,
    run_lib,
    skipped_records,
    write_results,
)

_RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _workloads(text: str) -> tuple[str, ...]:
    names: tuple[str, ...] = ()
    for word in (w.strip().upper() for w in text.split(",") if w.strip()):
        names += PEER_WORKLOADS if word == "PEERS" else (word,)
    names = tuple(dict.fromkeys(names))
    unknown = [w for w in names if w not in (*ALL_WORKLOADS, *OPT_IN_WORKLOADS)]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {', '.join(unknown) or '(none)'}; choose from "
            + ",".join((*ALL_WORKLOADS, *OPT_IN_WORKLOADS))
        )
    return names


def _libs(text: str, choices: tuple[str, ...] = ("nbtrack", *PEER_SPECS)) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(lib.strip().lower() for lib in text.split(",") if lib.strip()))
    if not names or not set(names) <= set(choices):
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {','.join(choices)}")
    return names


def _peers(text: str) -> tuple[str, ...]:
    return _libs(text, tuple(PEER_SPECS))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run nbtrack's benchmark workloads, optionally side by side with MLflow.",
    )
    parser.add_argument(
        "--against",
        type=_peers,
        metavar="LIB,…",
        help=(
            "also run the workloads against these libraries, each in its own venv: "
            + ", ".join(f"{lib}=={spec}" for lib, spec in PEER_SPECS.items())
        ),
    )
    parser.add_argument(
        "--workloads",
        type=_workloads,
        metavar="W1,W2,…",
        help=(
            "which workloads to run (default: W1–W6, and P1, P2 when --against names a "
            "library other than mlflow; 'peers' = W1,P1,P2, what every library can do; "
            "W7, the scoring server, W8, the panels over 100,000 runs, and W9, the "
            "tracking server, only if named)"
        ),
    )
    parser.add_argument(
        "--full", action="store_true", help="also create 10,000 runs through the fluent API (W3)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of every size (a smoke test, no verdicts)"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="N", help="timed repetitions per median (5)"
    )
    parser.add_argument(
        "--libs",
        type=_libs,
        metavar="LIB,…",
        help="run only these libraries (e.g. 'mlflow' to debug that side alone)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_dir(),
        help="where the peers' venvs live (default: %(default)s)",
    )
    parser.add_argument(
        "--mlflow-python",
        metavar="PATH",
        help="use this interpreter (with mlflow installed) instead of the cached venv",
    )
    parser.add_argument(
        "--output", type=Path, default=_RESULTS, help="results file (default: bench/results/)"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds before a workload is killed"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the stores the workloads wrote (and say where)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 1 if any workload failed or a check did not hold."""
    args = _parser().parse_args(argv)
    libs = list(args.libs or ("nbtrack", *(args.against or ())))
    workloads = args.workloads
    if workloads is None:
        beyond_mlflow = set(libs) - {"nbtrack", "mlflow"}
        workloads = ALL_WORKLOADS + (("P1", "P2") if beyond_mlflow else ())
    plan = Plan(workloads, args.quick, args.full, args.repeat, args.timeout)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    pythons = {"nbtrack": sys.executable}
    not_installed: dict[str, str] = {}
    for lib in libs:
        if lib == "nbtrack":
            continue
        try:
            if lib == "mlflow":
                pythons[lib] = args.mlflow_python or ensure_mlflow(args.cache_dir, progress)
            else:
                pythons[lib] = ensure_peer(lib, args.cache_dir, progress)
        # A peer pip cannot install is reported and the others still run.
        except PeerUnavailable as exc:
            not_installed[lib] = str(exc)
            progress(f"{lib:8} not run: {exc}")
    if "mlflow" in pythons and "W9" in plan.workloads:
        ensure_postgres_driver(pythons["mlflow"], progress)

    workdir = Path(tempfile.mkdtemp(prefix="nbtrack-bench-"))
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    try:
        for lib in libs:
            if lib in not_installed:
                by_workload = skipped_records(lib, plan, not_installed[lib])
            else:
                by_workload = run_lib(lib, pythons[lib], plan, workdir, progress)
            for workload, records in by_workload.items():
                results.setdefault(workload, {})[lib] = records
    finally:
        if args.keep:
            progress(f"stores kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    table = rows(results)
    wall_s = round(time.perf_counter() - started, 1)
    document = {
        **environment(),
        "argv": sys.argv[1:] if argv is None else argv,
        "plan": {
            "workloads": list(plan.workloads),
            "jobs": plan.jobs(),
            "quick": plan.quick,
            "full": plan.full,
            "repeat": plan.repeat,
        },
        "interpreters": pythons,
        "not_installed": not_installed,
        "wall_s": wall_s,
        "load_average_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "results": results,
        "targets": [
            {
                "workload": row.figure.workload,
                "size": row.size,
                "figure": row.figure.key,
                "target": row.figure.target,
                "better": row.figure.better,
                "nbtrack": row.values.get("nbtrack"),
                "met": row.met(),
            }
            for row in table
            if row.target_applies()
        ],
    }
    write_results(args.output, document)

    print(render_table(table, libs))
    for line in skip_reasons(results):
        print(line)
    for lib in libs:
        loads = [
            load[0]
            for by_lib in results.values()
            for record in by_lib.get(lib, [])
            for load in (record.get("load_average_start"), record.get("load_average_end"))
            if load
        ]
        if loads:
            print(f"load average (1 min) while {lib} ran: {min(loads):.1f}–{max(loads):.1f}")
    for workload, by_lib in results.items():
        for lib, records in by_lib.items():
            for record in records:
                if record.get("store_built_by"):
                    print(
                        f"{workload} {lib} {record['size']:,}-run store: {record['store_built_by']}"
                        f" ({record['store_build_s']:.1f} s)"
                    )
                if record.get("note"):
                    print(f"{workload} {lib}: {record['note']}")
    failures = [
        f"{workload} {lib} {record.get('size') or ''}: {record.get('error')}"
        for workload, by_lib in results.items()
        for lib, records in by_lib.items()
        for record in records
        if not record.get("ok") and not record.get("skipped")
    ]
    for reason in not_installed.values():
        print(f"NOT RUN {reason}")
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"\nwall time {wall_s:.0f} s; results in {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
