"""``nbtrack export`` and ``nbtrack run`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TRAIN = Path(__file__).parent.parent / "data" / "projects" / "train.ipynb"

pytestmark = pytest.mark.slow


def test_export_then_run_with_a_parameter(invoke, tmp_path: Path) -> None:
    out = tmp_path / "project"
    result = invoke("export", str(TRAIN), "--to", "mlproject", str(out))
    assert result.stdout == f"Wrote {out} (parameters: alpha, l1_ratio, max_iter, label)\n"
    assert result.stderr.startswith("warning: cell 4: shell escape")
    ran = invoke("run", str(out), "-P", "alpha=0.1", "--experiment-name", "cli", "--run-name", "p")
    assert "FINISHED" in ran.stderr
    runs = json.loads(invoke("runs", "list", "-e", "cli", "--json").stdout)
    parent = next(r for r in runs if r["run_name"] == "p")
    assert parent["params.alpha"] == "0.1"
    assert {r["run_name"] for r in runs} == {"p", "train", "score"}


def test_usage_and_input_errors(invoke, tmp_path: Path) -> None:
    out = tmp_path / "project"
    invoke("export", str(TRAIN), "--to", "mlproject", str(out))
    err = invoke("run", str(out), "-P", "alpha=abc", code=1).stderr
    assert err == "Error: Parameter 'alpha' must be a float, got 'abc'\n"
    err = invoke("run", str(out), "-P", "alpha", code=2).stderr
    assert "expected NAME=VALUE, got 'alpha'" in err
    err = invoke("export", str(TRAIN), "--to", "mlproject", str(out), code=1).stderr
    assert "is not an empty folder" in err
    err = invoke("export", "--to", "mlproject", str(tmp_path / "x"), code=2).stderr
    assert "Give the NOTEBOOK to export, or --from-run RUN_ID" in err
    assert "Give NOTEBOOK OUT" in invoke("export", "--to", "model", code=2).stderr
    err = invoke(
        "export", str(TRAIN), "--to", "mlproject", str(tmp_path / "y"), "-P", "a=1", code=2
    )
    assert "-P and --model-var apply to --to model only" in err.stderr
    err = invoke("run", str(tmp_path / "nowhere"), code=1).stderr
    assert err.startswith("Error: No project folder at")
