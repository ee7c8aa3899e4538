"""Real MLflow 3.17 (in its own venv) against a real ``nbtrack server``, unchanged.

One MLflow script does what a training script does — experiments, runs,
params, metrics, ``log_batch``, artifacts through the ``mlflow-artifacts:``
proxy, ``mlflow.sklearn.log_model(..., registered_model_name=...)``, an
alias, ``mlflow.pyfunc.load_model("models:/iris@champion")``, registry and run
searches with filters, order and page tokens — and prints what it saw; then
MLflow's CLI lists the experiments and runs; then ``nbtrack.Client`` reads
what MLflow wrote straight from the backend store, as a team's nbtrack users
would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, os, tempfile
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

out = {}
exp_id = mlflow.create_experiment("mlflow-script", tags={"team": "ml"})
mlflow.set_experiment("mlflow-script")
exp = mlflow.get_experiment(exp_id)
out["exp_id"] = exp_id
out["exp_tags"] = exp.tags
out["artifact_location"] = exp.artifact_location
client = MlflowClient()

run_ids = []
for i in range(5):
    with mlflow.start_run(run_name=f"r{i}") as run:
        mlflow.log_param("i", i)
        mlflow.log_metric("score", i / 10)
        mlflow.set_tag("parity", "even" if i % 2 == 0 else "odd")
        run_ids.append(run.info.run_id)
out["run_ids"] = run_ids

X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=300).fit(X, y)
with mlflow.start_run(run_name="batch") as run:
    batch_id = run.info.run_id
    client.log_batch(
        batch_id,
        metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(50)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("kind", "batch")],
    )
    mlflow.log_metric("nan_metric", float("nan"))
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "notes.txt")
    with open(path, "w") as f:
        f.write("hello artifacts")
    mlflow.log_artifact(path, artifact_path="docs")
    mlflow.log_dict({"a": 1}, "cfg/config.json")
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris")
out["batch_id"] = batch_id
out["model_id"] = info.model_id
out["artifact_uri"] = client.get_run(batch_id).info.artifact_uri

history = client.get_metric_history(batch_id, "loss")
out["history"] = [[m.step, m.value, m.timestamp] for m in history]
got = client.get_run(batch_id)
out["nan"] = str(got.data.metrics["nan_metric"])
out["params"] = got.data.params
out["status"] = got.info.status

found = mlflow.search_runs(
    experiment_ids=[exp_id],
    filter_string="metrics.score >= 0.2 and tags.parity = 'even'",
    order_by=["metrics.score DESC"],
    output_format="list",
)
out["filtered"] = [r.info.run_name for r in found]
page1 = client.search_runs([exp_id], max_results=2, order_by=["attributes.start_time ASC"])
page2 = client.search_runs(
    [exp_id], max_results=2, order_by=["attributes.start_time ASC"], page_token=page1.token
)
out["pages"] = [[r.info.run_name for r in page1], [r.info.run_name for r in page2]]
out["df_rows"] = len(mlflow.search_runs(experiment_ids=[exp_id]))

dst = tempfile.mkdtemp()
local = mlflow.artifacts.download_artifacts(
    run_id=batch_id, artifact_path="docs/notes.txt", dst_path=dst
)
with open(local) as f:
    out["artifact_text"] = f.read()
out["artifact_list"] = sorted(a.path for a in client.list_artifacts(batch_id))
out["config"] = mlflow.artifacts.load_dict(f"runs:/{batch_id}/cfg/config.json")

client.set_registered_model_alias("iris", "champion", "1")
loaded = mlflow.pyfunc.load_model("models:/iris@champion")
out["pred"] = [int(v) for v in loaded.predict(X.iloc[:5])]
out["expected"] = [int(v) for v in model.predict(X.iloc[:5])]
out["registered"] = [m.name for m in client.search_registered_models()]
out["alias_version"] = client.get_model_version_by_alias("iris", "champion").version
out["logged_model_status"] = str(mlflow.get_logged_model(info.model_id).status)

# MLflow's CLI, in this same interpreter (its start-up is most of a CLI call's cost).
from click.testing import CliRunner
from mlflow.cli import cli

for name, args in (("cli_experiments", ["experiments", "search"]),
                   ("cli_runs", ["runs", "list", "--experiment-id", exp_id])):
    result = CliRunner().invoke(cli, args)
    out[name] = [result.exit_code, result.output]
print(json.dumps(out))
"""


def _clean_env(tracking_server: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    env["MLFLOW_TRACKING_URI"] = tracking_server
    # MLflow 3.17 refuses to deserialise any sklearn model without this.
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    return env


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    from importlib.metadata import version

    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    check = "import sklearn; print(sklearn.__version__)"
    proc = subprocess.run([python, "-c", check], capture_output=True, text=True)
    if proc.returncode != 0 or proc.stdout.strip() != version("scikit-learn"):
        pip = [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            f"scikit-learn=={version('scikit-learn')}",
        ]
        subprocess.run(pip, check=True)
    return python


@pytest.fixture(scope="module")
def seen(mlflow_python: str, tracking_server: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """What the MLflow script saw (it runs once per module)."""
    cwd = tmp_path_factory.mktemp("mlflow-script")
    proc = subprocess.run(
        [mlflow_python, "-c", SCRIPT],
        cwd=cwd,
        env=_clean_env(tracking_server),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_runs_metrics_and_searches(seen: Any) -> None:
    assert seen["exp_tags"] == {"team": "ml"}
    assert seen["artifact_location"] == f"mlflow-artifacts:/{seen['exp_id']}"
    assert (
        seen["artifact_uri"] == f"mlflow-artifacts:/{seen['exp_id']}/{seen['batch_id']}/artifacts"
    )
    assert seen["history"] == [[s, 1.0 / (s + 1), 1000 + s] for s in range(50)]
    assert seen["nan"] == "nan"
    assert seen["params"] == {"lr": "0.1"}
    assert seen["status"] == "FINISHED"
    assert seen["filtered"] == ["r4", "r2"]
    assert seen["pages"] == [["r0", "r1"], ["r2", "r3"]]
    assert seen["df_rows"] == 6


def test_artifacts_through_the_proxy(seen: Any, running_server: Any) -> None:
    assert seen["artifact_text"] == "hello artifacts"
    assert seen["artifact_list"] == ["cfg", "docs"]
    assert seen["config"] == {"a": 1}
    # The proxy wrote them into the server's destination, where the run's folder is.
    folder = Path(running_server.artifacts) / seen["exp_id"] / seen["batch_id"] / "artifacts"
    assert (folder / "docs" / "notes.txt").read_text() == "hello artifacts"
    model_folder = Path(running_server.artifacts) / seen["exp_id"] / "models" / seen["model_id"]
    assert (model_folder / "artifacts" / "MLmodel").is_file()


def test_log_model_register_alias_and_load(seen: Any) -> None:
    assert seen["pred"] == seen["expected"]
    assert seen["registered"] == ["iris"]
    assert seen["alias_version"] == "1"
    assert seen["logged_model_status"] == "READY"


def test_mlflow_cli_lists_experiments_and_runs(seen: Any) -> None:
    code, listed = seen["cli_experiments"]
    assert code == 0, listed
    assert "mlflow-script" in listed
    code, listed = seen["cli_runs"]
    assert code == 0, listed
    for run_id in [*seen["run_ids"], seen["batch_id"]]:
        assert run_id in listed


def test_nbtrack_client_reads_what_mlflow_wrote(seen: Any, tracking_server_store: Path) -> None:
    import nbtrack

    client = nbtrack.Client(str(tracking_server_store))
    run = client.get_run(seen["batch_id"])
    assert run.info.run_name == "batch"
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["kind"] == "batch"
    assert run.data.metrics["loss"] == pytest.approx(1.0 / 50)
    assert len(client.get_metric_history(seen["batch_id"], "loss")) == 50
    runs = client.search_runs(seen["exp_id"], "tags.parity = 'odd'")
    assert sorted(r.info.run_name for r in runs) == ["r1", "r3"]
    version = client.get_model_version_by_alias("iris", "champion")
    assert version.run_id == seen["batch_id"]
    # The version's source is the model's real folder, which nbtrack opens directly.
    assert Path(str(version.source), "MLmodel").is_file()
