"""The evaluation report and the prompt comparison grid in a real JupyterLab and Chromium."""

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

import nbtrack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser-artifacts"
DRIVER = Path(__file__).with_name("_drive_grid.py")

CELLS = [
    "import nbtrack as nbt\n"
    "from sklearn.datasets import load_iris\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "X, y = load_iris(return_X_y=True, as_frame=True)\n"
    "model = LogisticRegression(max_iter=1000).fit(X, y)\n"
    "nbt.evaluate(model, X.assign(target=y), targets='target')",
    "nbt.compare_prompts(\n"
    "    ['Shout: {{text}}', 'Whisper: {{text}}'],\n"
    "    {'upper': str.upper, 'lower': str.lower},\n"
    "    [{'text': 'The Cat'}, {'text': 'A Dog'}],\n"
    ")",
]


@pytest.fixture
def lab(tmp_path: Path, jupyter_lab: Callable[[Path, dict[str, str]], Any]) -> Iterator[Any]:
    root = tmp_path / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, root / "grid.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["NBTRACK_TRACKING_URI"] = str(tmp_path / "store")
    lab = jupyter_lab(root, env)
    lab.store = tmp_path / "store"
    yield lab


def test_report_pages_and_grid_marks_in_the_browser(lab: Any) -> None:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), lab.url, lab.token, "grid.ipynb", str(ARTIFACTS)],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 0, (
        proc.stderr[-4000:] + "\n--- lab log ---\n" + lab.log.read_text()[-3000:]
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["report_svgs"] >= 3 and seen["report_page"] == 2
    assert seen["grid_rows"] == 3  # two inputs and the summary
    assert seen["prefer_buttons"] == 8 and seen["preferred"] == 1
    assert seen["console_errors"] == []
    # The click reached the kernel and was logged to the store.
    client = nbtrack.Client(str(lab.store))
    runs = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    counts = sorted(r.data.metrics.get("preferred_count", -1) for r in runs)
    assert counts.count(1.0) == 1 and counts.count(0.0) == 3
    assert (ARTIFACTS / "06-prompt-grid.png").stat().st_size > 10_000
