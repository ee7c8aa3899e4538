"""The benchmark suite: its worker protocol, its runner end to end, and its table's arithmetic.

The runner is driven for nbtrack at a tenth of the sizes (``--quick``), and
once against trackio for real (its venv is created under the cache folder on
first use, from the registry); the MLflow side is exercised by hand.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench._stores import expected_matches
from bench.peers import PEER_WORKLOADS, cannot_run, venv_dir
from bench.report import FIGURES, Row, render_table, rows, skip_reasons
from bench.runner import Plan, default_cache_dir

REPO_ROOT = Path(__file__).resolve().parent.parent


def _python(
    *args: str, cwd: Path = REPO_ROOT, timeout: float = 1800
) -> subprocess.CompletedProcess:
    # The timeout only bounds a hang: W6's quick run took over 300 s at a load average of 20.
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _figure(workload: str, key: str):
    return next(f for f in FIGURES if (f.workload, f.key) == (workload, key))


def test_worker_modules_import_neither_library() -> None:
    # The worker also runs in MLflow's venv, where nbtrack is not installed.
    heavy = ("nbtrack", "mlflow", "pandas", "sqlalchemy", "trackio", "wandb", "aim")
    code = (
        "import sys, bench._worker, bench.workloads, bench.runner, bench.report, bench.peers, "
        "bench._peer_api, bench.peer_workloads; "
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


def test_peers_do_what_they_can_and_the_table_says_why_not() -> None:
    assert [cannot_run(lib, w) for lib in ("trackio", "wandb", "aim") for w in PEER_WORKLOADS] == [
        None
    ] * 9
    assert cannot_run("mlflow", "W4") is None and cannot_run("nbtrack", "P2") is None
    reason = cannot_run("wandb", "W4")
    assert reason and "search_runs" in reason
    assert Plan(PEER_WORKLOADS, quick=True).jobs() == [("W1", 0), ("P1", 0), ("P2", 1_000)]

    results = {
        "W5": {
            "nbtrack": [{"size": 1_000, "ok": True, "history_ms": 2.0}],
            "trackio": [{"size": 1_000, "ok": True, "skipped": "no MLflow client"}],
        },
        "P2": {
            "nbtrack": [{"size": 1_000, "ok": True, "log_us_per_call": 1.0}],
            "trackio": [{"size": 1_000, "ok": True, "log_us_per_call": 100.0}],
        },
    }
    table = rows(results)
    w5 = next(r for r in table if r.figure.key == "history_ms")
    assert w5.values == {"nbtrack": 2.0} and w5.skipped == {"trackio": "no MLflow client"}
    p2 = next(r for r in table if r.figure.key == "log_us_per_call")
    assert p2.ratio("trackio") == 100
    text = render_table(table, ["nbtrack", "trackio"])
    w5_line = next(line for line in text.splitlines() if "get_metric_history" in line)
    assert "—" in w5_line and "nbtrack vs trackio" in text and "100.0x" in text
    assert skip_reasons(results) == ["— W5 trackio: no MLflow client"]


@pytest.mark.slow
def test_a_peer_that_cannot_be_installed_is_reported_and_the_rest_runs(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    venv_dir("aim", cache).write_text("not a folder: `python -m venv` fails here")
    output = tmp_path / "latest.json"
    proc = _python(
        "-m", "bench", "--against", "aim", "--workloads", "W1", "--quick", "--repeat", "1",
        "--cache-dir", str(cache), "--output", str(output),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NOT RUN aim could not be installed" in proc.stdout
    document = json.loads(output.read_text())
    (ours,) = document["results"]["W1"]["nbtrack"]
    (theirs,) = document["results"]["W1"]["aim"]
    assert ours["ok"] is True and ours["process_ms"] > 0
    assert "could not be installed" in theirs["skipped"]
    assert "aim" in document["not_installed"]


@pytest.mark.slow
def test_quick_run_against_trackio_for_real(tmp_path: Path) -> None:
    # Creates <cache>/trackio-0.43 from the registry when it is not there yet.
    output = tmp_path / "latest.json"
    proc = _python(
        "-m", "bench", "--against", "trackio", "--workloads", "W5,peers", "--quick",
        "--repeat", "2", "--output", str(output),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (venv_dir("trackio", default_cache_dir()) / "bin" / "python").exists()
    document = json.loads(output.read_text())
    assert set(document["results"]) == {"W1", "W5", "P1", "P2"}
    by_lib = {lib: document["results"]["P2"][lib][0] for lib in ("nbtrack", "trackio")}
    for p2 in by_lib.values():
        assert p2["ok"] is True, p2.get("error")
        # Every point was read back by a fresh process through the library's reader.
        assert p2["size"] == 1_000 and p2["points_read_back"] == 1_000
        assert p2["log_us_per_call"] > 0 and p2["sustained_points_per_s"] > 0
        assert len(p2["history_read_ms_runs"]) == 2
    assert by_lib["trackio"]["version"].startswith("0.43")
    for lib in ("nbtrack", "trackio"):
        (p1,) = document["results"]["P1"][lib]
        assert p1["ok"] is True, p1.get("error")
        assert p1["runs_read_back"] == 2
        assert p1["first_point_process_ms"] > p1["first_point_ms"] > 0
        (w1,) = document["results"]["W1"][lib]
        assert w1["ok"] is True and w1["import_ms"] > 0
    (w5,) = document["results"]["W5"]["trackio"]
    assert "no MLflow client" in w5["skipped"]
    assert "— W5 trackio: no MLflow client" in proc.stdout
    assert "nbtrack vs trackio" in proc.stdout


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
    assert w1["load_ext_ms"] > 0  # measured; its size is a figure for bench, not a test bound
    assert w5["size"] == 1_000 and w5["history_ms"] > 0
    assert w6["cells"] == 20 and w6["plain_cell_ms"] > 0
    # A %%track cell writes a run; the workload clamps noise to 0, so only it can be > 0 for sure.
    assert w6["track_ms"] > 0
    assert isinstance(w6["hook_ms"], float) and math.isfinite(w6["hook_ms"])
