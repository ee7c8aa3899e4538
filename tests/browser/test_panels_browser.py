"""The panels in a real JupyterLab, driven in headless Chromium.

JupyterLab 4 serves a temporary root on 127.0.0.1 with a token; its kernels
see a store seeded here. A notebook runs ``show_runs``, ``compare``,
``show_metrics`` and ``show_run``; the driver (``_drive_panels.py``, its own
process) checks rows, sorting by a header click, filtering, the filter error,
Compare, the charts' SVG, a table refreshing while a training cell runs, text
contrast on both themes, and collects console errors.
Screenshots go to ``tests/browser-artifacts/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from wine_runs import log_wine_run

import nbtrack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser-artifacts"
DRIVER = Path(__file__).with_name("_drive_panels.py")
#: The whole drive (page load, kernel start, five panels, two themes) is bounded.
DRIVE_TIMEOUT_S = 150

CELLS = [
    "import nbtrack as nbt\n"
    "ids = list(nbt.search_runs(experiment_names=['wine'], order_by=['attributes.run_name'])"
    "['run_id'])\n"
    "nbt.show_runs('wine')",
    "nbt.compare(ids[:3])",
    "nbt.show_metrics(ids[:3], 'loss')",
    "nbt.show_run(ids[0])",
    # A run in progress: its table must move while the next cell keeps the kernel busy.
    "nbt.set_experiment('live')\n"
    "live = nbt.start_run(run_name='live-run')\n"
    "nbt.log_metric('rmse', 0.95, step=0)\n"
    "nbt.show_runs('live')",
    "import time\n"
    "for step in range(1, 9):\n"
    "    time.sleep(1)\n"
    "    nbt.log_metric('rmse', 0.95 - step / 10, step=step)\n"
    "nbt.end_run()",
]


def _seed(store: Path) -> None:
    """Twelve runs: rmse = 1 / (i + 1), model rf on odd runs, a 30-step loss curve each."""
    client = nbtrack.Client(str(store))
    experiment_id = client.create_experiment("wine")
    for i in range(12):
        run_id = log_wine_run(client, experiment_id, i)
        client.set_terminated(run_id)


@pytest.fixture
def lab(tmp_path: Path, jupyter_lab: Callable[[Path, dict[str, str]], Any]) -> Iterator[Any]:
    """JupyterLab over a folder with the panels notebook; its kernels see a seeded store."""
    root = tmp_path / "root"
    root.mkdir()
    store = tmp_path / "store"
    _seed(store)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "panels.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["NBTRACK_TRACKING_URI"] = str(store)
    yield jupyter_lab(root, env)


def test_panels_in_jupyterlab_and_chromium(lab: Any) -> None:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), lab.url, lab.token, "panels.ipynb", str(ARTIFACTS)],
        capture_output=True,
        text=True,
        timeout=DRIVE_TIMEOUT_S,
    )
    assert proc.returncode == 0, (
        proc.stderr[-4000:] + "\n--- lab log ---\n" + lab.log.read_text()[-3000:]
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])

    assert seen["panels"] == 5
    # The live table showed new values while the training cell was still running,
    # then the run's end.
    assert seen["live_rmse_while_busy"] < 0.9
    assert seen["live_final"]["status"] == "FINISHED"
    assert abs(seen["live_final"]["rmse"] - 0.15) < 1e-9
    assert seen["rows_visible"] == 12
    rmse = [float(v) for v in seen["rmse_after_click"]]
    assert rmse == sorted(rmse) and len(rmse) == 12
    again = [float(v) for v in seen["rmse_after_second_click"]]
    assert again == sorted(rmse, reverse=True)
    assert seen["rows_after_filter"] == 6 and seen["models_after_filter"] == ["rf"]
    assert "position 14" in seen["filter_error"] and "^" in seen["filter_error"]
    assert seen["compare_headings"] >= 1
    # compare (parallel coordinates + a scatter) and the loss chart.
    assert seen["chart_svgs"] >= 3
    assert seen["chart_size"][0] > 100 and seen["chart_size"][1] > 100
    assert seen["log_toggled"] and seen["run_heading"] == 1
    # Text stays readable on both themes (WCAG AA for normal text).
    for theme in ("contrast_light", "contrast_dark"):
        low = {target: ratio for target, ratio in seen[theme].items() if not ratio or ratio < 4.5}
        assert low == {}, (theme, low)
    assert seen["console_errors"] == []
    for name in ("01-panels-light", "02-filtered", "03-charts-light", "04-panels-dark"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
