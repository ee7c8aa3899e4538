"""``nbtrack run``: exported notebooks and MLflow's example layout as tracked runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

import nbtrack as nbt
from nbtrack.errors import InvalidInput
from nbtrack.projects import export_mlproject, run_project

DATA = Path(__file__).parent.parent / "data" / "projects"

pytestmark = pytest.mark.slow


def _expected_rmse(alpha: float) -> float:
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = ElasticNet(alpha=alpha, l1_ratio=0.1, max_iter=5000).fit(X_train, y_train)
    return float(np.sqrt(mean_squared_error(y_test, model.predict(X_test))))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return export_mlproject(DATA / "train.ipynb", tmp_path / "project").path


def _runs(client: Any, experiment: str) -> dict[str, Any]:
    exp = client.get_experiment_by_name(experiment)
    return {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}


def test_exported_notebook_runs_with_overridden_parameters(project: Path, tmp_dir: Path) -> None:
    client = nbt.Client(str(tmp_dir / "store"))
    result = run_project(
        project, {"alpha": "0.1"}, experiment_name="wine", run_name="proj", client=client
    )
    assert (result.exit_code, result.status) == (0, "FINISHED")
    runs = _runs(client, "wine")
    assert set(runs) == {"proj", "train", "score"}
    parent = runs["proj"]
    assert parent.info.run_id == result.run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.params == {
        "alpha": "0.1",
        "l1_ratio": "0.1",
        "max_iter": "5000",
        "label": "baseline",
    }
    assert parent.data.tags["mlflow.source.type"] == "PROJECT"
    assert parent.data.tags["mlflow.project.entryPoint"] == "main"
    train = runs["train"]
    # The run holding the metric also holds the parameters its cell read.
    assert train.data.params["alpha"] == "0.1"
    assert train.data.params["max_iter"] == "5000"
    assert train.data.metrics["rmse"] == pytest.approx(_expected_rmse(0.1))
    assert train.data.tags["nbtrack.parent_run_id"] == result.run_id
    assert train.data.tags["mlflow.parentRunId"] == result.run_id  # MLflow searches find it
    assert train.data.tags["nbtrack.notebook.experiment"] == "wine"
    assert 0 < runs["score"].data.metrics["r2"] < 1
    assert all(r.info.status == "FINISHED" for r in runs.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"alpha": "abc"}, "Parameter 'alpha' must be a float, got 'abc'"),
        ({"max_iter": "1.5"}, "Parameter 'max_iter' must be an int, got '1.5'"),
        ({"gamma": "1"}, "Unknown parameter 'gamma' for entry point 'main'"),
    ],
)
def test_bad_parameters_fail_before_anything_runs(
    project: Path, tmp_dir: Path, params: dict[str, str], message: str
) -> None:
    client = nbt.Client(str(tmp_dir / "store"))
    with pytest.raises(InvalidInput, match=message):
        run_project(project, params, experiment_name="wine", client=client)
    assert client.get_experiment_by_name("wine") is None
    assert client.search_runs(["0"]) == []


def test_cli_propagates_exit_code_and_marks_the_run_failed(tmp_dir: Path) -> None:
    folder = tmp_dir / "failing"
    folder.mkdir()
    (folder / "MLproject").write_text(
        "name: failing\nentry_points:\n  main:\n    parameters:\n"
        "      code: {type: int, default: 3}\n    command: python fail.py {code}\n"
    )
    (folder / "fail.py").write_text(
        "import sys\nimport nbtrack as nbt\n"
        "nbt.log_metric('before', 1.0)\nsys.exit(int(sys.argv[1]))\n"
    )
    store = str(tmp_dir / "store")
    done = subprocess.run(
        [sys.executable, "-m", "nbtrack", "--tracking-uri", store, "run", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(nbt.__file__).parents[1])},
    )
    assert done.returncode == 3, done.stderr
    (run,) = nbt.Client(store).search_runs(["0"])
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"before": 1.0}
    assert f"Run {run.info.run_id} FAILED" in done.stderr


def test_mlflow_example_layout_runs_through_the_mlflow_stand_in(tmp_dir: Path) -> None:
    client = nbt.Client(str(tmp_dir / "store"))
    result = run_project(
        DATA / "elasticnet_wine", {"alpha": "0.3"}, experiment_name="wine", client=client
    )
    assert result.status == "FINISHED"
    run = client.get_run(result.run_id)
    assert run.data.params["alpha"] == "0.3"
    csv = DATA.resolve() / "elasticnet_wine" / "winequality-red.csv"
    assert run.data.params["data"] == str(csv)
    assert set(run.data.metrics) == {"rmse", "r2", "mae"}
    version = client.get_model_version("ElasticnetWineModel", 1)
    assert version.run_id == result.run_id
    nbt.set_tracking_uri(client.tracking_uri)
    model = nbt.load_model("models:/ElasticnetWineModel/1")
    import pandas as pd

    frame = pd.read_csv(DATA / "elasticnet_wine" / "winequality-red.csv", sep=";")
    assert model.predict(frame.drop(columns=["quality"]).head(3)).shape == (3,)


def test_script_entry_points_and_refused_environments(tmp_dir: Path) -> None:
    folder = tmp_dir / "plain"
    folder.mkdir()
    (folder / "hello.py").write_text("import nbtrack as nbt\nnbt.log_metric('x', 2.0)\n")
    client = nbt.Client(str(tmp_dir / "store"))
    result = run_project(folder, entry_point="hello.py", client=client)
    assert client.get_run(result.run_id).data.metrics == {"x": 2.0}
    with pytest.raises(InvalidInput, match="No entry point 'main'"):
        run_project(folder, client=client)
    (folder / "MLproject").write_text(
        "name: c\nconda_env: conda.yaml\nentry_points:\n  main:\n    command: python hello.py\n"
    )
    (folder / "conda.yaml").write_text("name: c\n")
    with pytest.raises(InvalidInput, match="declares conda_env, but conda is not installed"):
        run_project(folder, env_manager="virtualenv", client=client)
    with pytest.raises(InvalidInput, match="Only local project folders"):
        run_project("https://github.com/mlflow/mlflow-example", client=client)
    with pytest.raises(InvalidInput, match="Unknown env manager 'conda'"):
        run_project(folder, env_manager="conda", client=client)
    (folder / "MLproject").write_text(
        "name: c\nentry_points:\n  main:\n    parameters:\n      a: {type: bool}\n    command: x\n"
    )
    with pytest.raises(InvalidInput, match="unknown type 'bool'"):
        run_project(folder, client=client)


def test_virtualenv_env_manager_builds_and_reuses_an_isolated_env(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_CACHE_DIR", str(tmp_dir / "cache"))
    folder = tmp_dir / "isolated"
    folder.mkdir()
    (folder / "MLproject").write_text(
        "name: isolated\npython_env: python_env.yaml\nentry_points:\n  main:\n"
        "    command: python check.py\n"
    )
    (folder / "python_env.yaml").write_text(
        f"python: {sys.version_info.major}.{sys.version_info.minor}\n"
        "build_dependencies: [pip]\ndependencies: [six]\n"
    )
    (folder / "check.py").write_text(
        "import sys, six, nbtrack as nbt\n"
        "nbt.log_param('prefix', sys.prefix)\n"
        "import importlib.util\n"
        "nbt.log_param('has_sklearn', importlib.util.find_spec('sklearn') is not None)\n"
    )
    client = nbt.Client(str(tmp_dir / "store"))
    first = run_project(folder, env_manager="virtualenv", client=client)
    params = client.get_run(first.run_id).data.params
    assert params["prefix"].startswith(str(tmp_dir / "cache" / "envs"))
    assert params["has_sklearn"] == "False"  # isolated: only what python_env.yaml asks for
    second = run_project(folder, env_manager="virtualenv", client=client)
    assert client.get_run(second.run_id).data.params["prefix"] == params["prefix"]
