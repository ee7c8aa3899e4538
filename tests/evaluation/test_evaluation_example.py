"""``examples/evaluation.ipynb`` runs in a real kernel and leaves its runs in the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in)
import nbclient
import nbformat
import pytest

import nbtrack as nbt

EXAMPLE = Path(__file__).parents[2] / "examples" / "evaluation.ipynb"

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_evaluation_example_runs(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = tmp_dir / EXAMPLE.name
    shutil.copy(EXAMPLE, notebook)
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(tmp_dir / "store"))
    nb = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()
    report = nb.cells[2].outputs[0]["data"]["text/html"]
    assert "<svg" in report and "accuracy_score" in report
    client = nbt.Client(str(tmp_dir / "store"))
    experiment = client.get_experiment_by_name("evaluation")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert all(r.data.metrics["accuracy_score"] > 0.9 for r in runs)
    assert any("confident" in r.data.metrics for r in runs)
