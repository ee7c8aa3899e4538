"""MLflow-style scripts run with only the import lines changed (``import nbtrack as mlflow``).

The scripts live in ``tests/data/mlflow_scripts/``: MLflow's tracking
quickstarts, the elastic-net wine example (on a local CSV this test writes,
registering the model), a logistic regression under ``mlflow.sklearn.autolog``
and a custom ``pyfunc.PythonModel``. Each runs in a subprocess against a fresh
store; the test then reads the store as a user would. The last test turns the
import lines back into MLflow's and runs the same files under the real MLflow
3.17, so "only the import lines changed" is checked, not assumed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack as nbt

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "data" / "mlflow_scripts"


def _run(script: str, cwd: Path, *args: str, python: str = sys.executable, **env: str) -> str:
    proc = subprocess.run(
        [python, str(SCRIPTS / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _write_wine_csv(path: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "quality"})
    frame.to_csv(path, sep=";", index=False)


@pytest.fixture
def store(tmp_dir: Path) -> str:
    uri = f"sqlite:///{tmp_dir / 'mlflow.db'}"
    nbt.set_tracking_uri(uri)
    return uri


def test_quickstart_mlflow_tracking(tmp_dir: Path, store: str) -> None:
    _run("mlflow_tracking.py", tmp_dir, NBTRACK_TRACKING_URI=store)
    (run,) = nbt.search_runs(output_format="list")
    assert run.info.status == "FINISHED"
    assert set(run.data.params) == {"config_value", "param1", "param2"}
    assert len(nbt.get_metric_history(run.info.run_id, "accuracy")) == 3
    assert [f.path for f in nbt.list_artifacts(run.info.run_id)] == ["test.txt"]


def test_tracking_quickstart_logs_registers_and_loads(tmp_dir: Path, store: str) -> None:
    out = _run("tracking_quickstart.py", tmp_dir, NBTRACK_TRACKING_URI=store)
    assert "predicted_class" in out and "accuracy=1.0000" in out
    (run,) = nbt.search_runs(experiment_names=["MLflow Quickstart"], output_format="list")
    assert run.data.tags["Training Info"] == "Basic LR model for iris data"
    assert run.data.params["solver"] == "lbfgs" and run.data.metrics["accuracy"] == 1.0
    (version,) = nbt.search_model_versions(filter_string="name = 'tracking-quickstart'")
    assert version.run_id == run.info.run_id
    assert version.source == f"runs:/{run.info.run_id}/iris_model"


def test_elasticnet_wine_registers_the_model(tmp_dir: Path, store: str) -> None:
    _write_wine_csv(tmp_dir / "wine.csv")
    out = _run(
        "sklearn_elasticnet_wine.py", tmp_dir, "0.3", "0.2", "wine.csv", NBTRACK_TRACKING_URI=store
    )
    assert "Elasticnet model (alpha=0.300000, l1_ratio=0.200000)" in out
    (run,) = nbt.search_runs(output_format="list")
    assert run.data.params == {"alpha": "0.3", "l1_ratio": "0.2"}
    assert set(run.data.metrics) == {"rmse", "r2", "mae"}
    model = nbt.sklearn.load_model("models:/ElasticnetWineModel/1")
    assert type(model).__name__ == "ElasticNet" and model.alpha == 0.3
    assert nbt.models.Model.load("models:/ElasticnetWineModel/latest").signature is not None


def test_logistic_regression_with_autolog(tmp_dir: Path, store: str) -> None:
    out = _run("sklearn_autolog_logistic.py", tmp_dir, NBTRACK_TRACKING_URI=store)
    (run,) = nbt.search_runs(output_format="list")
    assert f"Logged data and model in run {run.info.run_id}" in out
    assert run.data.params["C"] == "0.7"
    # MLflow names it training_accuracy_score; nbtrack's autolog says training_accuracy.
    assert any(k.startswith("training_accuracy") for k in run.data.metrics)
    assert "model/MLmodel" in out and "predictions: [0, 0, 0, 1, 1, 1, 1, 0]" in out


def test_pyfunc_python_model(tmp_dir: Path, store: str) -> None:
    out = _run("pyfunc_add_n.py", tmp_dir, NBTRACK_TRACKING_URI=store)
    assert "{'x': [8, 9]}" in out
    run_id = re.search(r"run_id=(\w+)", out).group(1)  # type: ignore[union-attr]
    paths = {f.path for f in nbt.list_artifacts(run_id, "add_from_file")}
    assert "add_from_file/MLmodel" in paths


def _as_mlflow(script: Path, out: Path) -> None:
    lines = [
        re.sub(r"\bnbtrack\b", "mlflow", line) if line.startswith(("import ", "from ")) else line
        for line in script.read_text().splitlines(keepends=True)
    ]
    out.write_text("".join(lines))


def test_the_same_scripts_run_under_mlflow(tmp_dir: Path) -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    _write_wine_csv(tmp_dir / "wine.csv")
    args = {"sklearn_elasticnet_wine.py": ("0.3", "0.2", "wine.csv")}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    for script in sorted(SCRIPTS.glob("*.py")):
        folder = tmp_dir / script.stem
        folder.mkdir()
        _as_mlflow(script, folder / script.name)
        (folder / "wine.csv").write_bytes((tmp_dir / "wine.csv").read_bytes())
        proc = subprocess.run(
            [python, script.name, *args.get(script.name, ())],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**clean, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"},
            timeout=600,
        )
        assert proc.returncode == 0, f"{script.name} under MLflow:\n{proc.stderr[-3000:]}"
