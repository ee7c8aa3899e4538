"""System metrics sampled in the background while a run is active (real psutil, real threads)."""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil  # noqa: F401  (the sampler under test)
import pytest

import nbtrack
from nbtrack.tracking import fluent
from nbtrack.tracking.system_metrics import sample

MLFLOW_NAMES = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
}


def _wait_for_samples(run: Any, count: int) -> None:
    # Waits for the sampler to make progress; bounded so a broken sampler fails the test.
    deadline = time.monotonic() + 30
    while run._system_metrics.samples < count and time.monotonic() < deadline:
        time.sleep(0.01)


def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nbtrack-system-metrics")]


def test_sample_names_and_values() -> None:
    values = sample()
    assert set(values) >= MLFLOW_NAMES
    assert 0 <= values["system/system_memory_usage_percentage"] <= 100
    assert values["system/system_memory_usage_megabytes"] > 0


def test_start_run_samples_until_the_run_ends(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS_INTERVAL", "0.02")
    with nbtrack.start_run(log_system_metrics=True) as run:
        _wait_for_samples(run, 3)
        monitor = run._system_metrics
    assert not monitor._thread.is_alive() and _sampler_threads() == []
    stored = nbtrack.get_run(run.info.run_id)
    assert set(stored.data.metrics) >= MLFLOW_NAMES
    history = nbtrack.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")
    # Steps count samples from 0; the last one is taken as the run ends.
    assert [m.step for m in history] == list(range(monitor.samples))
    assert monitor.samples >= 4


def test_off_by_default_and_on_by_environment(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with nbtrack.start_run() as off:
        assert off._system_metrics is None
    assert nbtrack.get_run(off.info.run_id).data.metrics == {}
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS", "1")
    with nbtrack.start_run() as on:
        assert on._system_metrics is not None
    assert "system/cpu_utilization_percentage" in nbtrack.get_run(on.info.run_id).data.metrics
    with nbtrack.start_run(log_system_metrics=False) as refused:
        assert refused._system_metrics is None


def test_track_cell_with_system_metrics(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS_INTERVAL", "0.02")
    ip.run_cell(
        "%%track --quiet --system-metrics\nimport time, nbtrack\n"
        "monitor = nbtrack.active_run()._system_metrics\n"
        "deadline = time.monotonic() + 30\n"
        "while monitor.samples < 2 and time.monotonic() < deadline:\n    time.sleep(0.01)\n"
    ).raise_error()
    ip.run_cell("%%track --quiet\nx = 1\n").raise_error()
    with_metrics, without = nbtrack.search_runs(
        output_format="list", order_by=["attributes.start_time ASC"]
    )
    assert set(with_metrics.data.metrics) >= MLFLOW_NAMES
    assert not any(k.startswith("system/") for k in without.data.metrics)
    assert fluent.active_run() is None and _sampler_threads() == []
