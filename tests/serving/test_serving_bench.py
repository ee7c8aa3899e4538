"""Bench W7 end to end for nbtrack (its figures are not judged here: perf lives in bench/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench._loadgen import Load
from bench.runner import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_w7_runs_only_when_named() -> None:
    assert all(w != "W7" for w, _ in Plan().jobs())
    assert Plan(workloads=("W7",)).jobs() == [("W7", 5)]
    assert Plan(workloads=("W7",), quick=True).jobs() == [("W7", 2)]


def test_load_rate_is_requests_over_seconds() -> None:
    assert Load(500, 2.0, 1.0, 3.0, 0, "test").per_s == 250


@pytest.mark.slow
def test_w7_worker_serves_checks_and_reports(tmp_path: Path) -> None:
    worker = ["-m", "bench._worker", "--lib", "nbtrack", "--workload", "W7"]
    proc = subprocess.run(
        [sys.executable, *worker, "--store", str(tmp_path), "--size", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["ok"] is True
    for key in ("rps_1", "p50_1_ms", "p99_1_ms", "rps_1000", "p99_1000_ms", "ping_s", "rss_mb"):
        assert record[key] > 0, key
    assert record["requests_1"] > 0 and record["requests_1000"] > 0
    assert record["load_generator"]
