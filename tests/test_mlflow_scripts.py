"""MLflow's quickstart scripts run unchanged with ``nbtrack`` in place of ``mlflow``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack as nbt

# mlflow/examples/quickstart/mlflow_tracking.py, with the import renamed.
QUICKSTART = """
import os
from random import random, randint
from nbtrack import log_metric, log_param, log_params, log_artifacts

if __name__ == "__main__":
    log_param("config_value", randint(0, 100))
    log_params({"param1": randint(0, 100), "param2": randint(0, 100)})
    log_metric("accuracy", random() / 2.0)
    log_metric("accuracy", random() + 0.1)
    log_metric("accuracy", random() + 0.2)
    if not os.path.exists("outputs"):
        os.makedirs("outputs")
    with open("outputs/test.txt", "w") as f:
        f.write("hello world!")
    log_artifacts("outputs")
"""

# The tracking quickstart's logging part (log_model comes with the models issue).
TRACKING_QUICKSTART = """
import nbtrack as mlflow
from nbtrack import MlflowClient

mlflow.set_tracking_uri(uri="{uri}")
mlflow.set_experiment("MLflow Quickstart")
params = {{"solver": "lbfgs", "max_iter": 1000, "multi_class": "auto", "random_state": 8888}}
with mlflow.start_run():
    mlflow.log_params(params)
    mlflow.log_metric("accuracy", 0.97)
    mlflow.set_tag("Training Info", "Basic LR model for iris data")
client = MlflowClient()
exp = client.get_experiment_by_name("MLflow Quickstart")
runs = mlflow.search_runs(experiment_ids=[exp.experiment_id])
print(runs[["params.solver", "metrics.accuracy"]].to_string())
"""


@pytest.mark.slow
def test_mlflow_quickstart_script_runs_unchanged(tmp_dir: Path) -> None:
    (tmp_dir / "quickstart.py").write_text(QUICKSTART)
    subprocess.run([sys.executable, "quickstart.py"], check=True, cwd=tmp_dir)
    (run,) = nbt.search_runs(output_format="list")
    assert run.info.status == "FINISHED"
    assert set(run.data.params) == {"config_value", "param1", "param2"}
    assert len(nbt.get_metric_history(run.info.run_id, "accuracy")) == 3
    assert [f.path for f in nbt.list_artifacts(run.info.run_id)] == ["test.txt"]


@pytest.mark.slow
def test_tracking_quickstart_runs_unchanged(tmp_dir: Path) -> None:
    uri = f"sqlite:///{tmp_dir / 'mlflow.db'}"
    (tmp_dir / "tracking.py").write_text(TRACKING_QUICKSTART.format(uri=uri))
    out = subprocess.run(
        [sys.executable, "tracking.py"], check=True, cwd=tmp_dir, capture_output=True, text=True
    ).stdout
    assert "lbfgs" in out and "0.97" in out
    nbt.set_tracking_uri(uri)
    (run,) = nbt.search_runs(experiment_names=["MLflow Quickstart"], output_format="list")
    assert run.data.tags["Training Info"] == "Basic LR model for iris data"
