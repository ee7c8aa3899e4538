"""The benchmark suite: its worker protocol, its runner end to end, and its table's arithmetic.

The runner is driven for nbtrack only, at a tenth of the sizes (``--quick``);
the MLflow side needs a venv with MLflow and is exercised by hand.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench._stores import expected_matches
from bench.report import FIGURES, Row, render_table
from bench.runner import Plan

REPO_ROOT = Path(__file__).resolve().parent.parent


def _python(*args: str, cwd: Path = REPO_ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _figure(workload: str, key: str):
    return next(f for f in FIGURES if (f.workload, f.key) == (workload, key))


def test_worker_modules_import_neither_library() -> None:
    # The worker also runs in MLflow's venv, where nbtrack is not installed.
    heavy = ("nbtrack", "mlflow", "pandas", "sqlalchemy")
    code = (
        "import sys, bench._worker, bench.workloads, bench.runner, bench.report; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_w4_filter_matches_about_a_tenth_of_the_runs() -> None:
    assert 800 <= expected_matches(10_000) <= 1200


def test_ratio_reads_as_how_many_times_better_nbtrack_is() -> None:
    time_row = Row(_figure("W5", "history_ms"), 10_000, {"nbtrack": 2.0, "mlflow": 400.0}, {})
    rate_row = Row(_figure("W3", "runs_per_s"), 1_000, {"nbtrack": 3000.0, "mlflow": 30.0}, {})
    assert time_row.ratio() == 200
    assert rate_row.ratio() == 100
    assert time_row.met() is True
    assert Row(time_row.figure, 1_000, time_row.values, {}).met() is None  # target is at 10,000
    table = render_table([time_row, rate_row], ["nbtrack", "mlflow"])
    assert "200.0x" in table and "100.0x" in table


def test_quick_plan_shrinks_every_size_tenfold() -> None:
    assert Plan(quick=True).jobs() == [
        ("W1", 0),
        ("W2", 1_000),
        ("W3", 100),
        ("W4", 100),
        ("W4", 1_000),
        ("W5", 1_000),
        ("W6", 20),
    ]
    assert ("W3", 10_000) in Plan(full=True).jobs()


@pytest.mark.slow
def test_a_failing_workload_reports_itself_in_its_json_line(tmp_path: Path) -> None:
    proc = _python(
        "-m", "bench._worker", "--lib", "nbtrack", "--workload", "W99", "--store", str(tmp_path)
    )
    assert proc.returncode == 1
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["ok"] is False and "W99" in record["error"]


@pytest.mark.slow
def test_worker_prints_one_json_line(tmp_path: Path) -> None:
    proc = _python(
        "-m", "bench._worker", "--lib", "nbtrack", "--workload", "W5",
        "--store", str(tmp_path), "--size", "1000", "--repeat", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.strip().splitlines()
    record = json.loads(line)
    assert record["workload"] == "W5" and record["lib"] == "nbtrack" and record["ok"] is True
    assert record["history_ms"] > 0 and len(record["history_ms_runs"]) == 2


@pytest.mark.slow
def test_quick_run_of_w1_w5_and_w6(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    proc = _python(
        "-m", "bench", "--workloads", "W1,W5,W6", "--quick", "--repeat", "2",
        "--output", str(output),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "get_metric_history" in proc.stdout

    document = json.loads(output.read_text())
    assert document["python"] and document["timestamp"] and "git_commit" in document
    assert set(document["results"]) == {"W1", "W5", "W6"}
    (w1,) = document["results"]["W1"]["nbtrack"]
    (w5,) = document["results"]["W5"]["nbtrack"]
    (w6,) = document["results"]["W6"]["nbtrack"]
    for record in (w1, w5, w6):
        assert record["ok"] is True, record.get("error")
        assert record["lib"] == "nbtrack" and record["version"]
    assert w1["import_ms"] > 0 and w1["process_ms"] > w1["import_ms"]
    assert 0 < w1["load_ext_ms"] < 10_000
    assert w5["size"] == 1_000 and w5["history_ms"] > 0
    assert w6["cells"] == 20 and w6["plain_cell_ms"] > 0
    # A %%track cell writes a run; the workload clamps noise to 0, so only it can be > 0 for sure.
    assert w6["track_ms"] > 0
    assert isinstance(w6["hook_ms"], float) and math.isfinite(w6["hook_ms"])
