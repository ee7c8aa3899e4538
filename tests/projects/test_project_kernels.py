"""Exports that execute notebooks in real kernels or run under MLflow's own ``mlflow run``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import ipykernel  # noqa: F401  (the kernel the notebooks run in)
import nbclient
import nbformat
import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import train_test_split

import nbtrack as nbt
from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.projects import export_mlproject, export_run_lineage, run_project
from nbtrack.projects.model_export import export_model

DATA = Path(__file__).parent.parent / "data" / "projects"

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

_SETUP = (
    "from sklearn.datasets import load_wine\n"
    "from sklearn.linear_model import ElasticNet\n"
    "from sklearn.model_selection import train_test_split\n"
    "X, y = load_wine(return_X_y=True)\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)"
)
_FIT = (
    "%%track fit\n"
    "model = ElasticNet(alpha=alpha, max_iter=5000).fit(X_train, y_train)\n"
    "score = model.score(X_test, y_test)"
)


def _notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


def test_lineage_export_reproduces_an_out_of_order_result(
    tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    path = _notebook(
        tmp_dir / "messy.ipynb", "%load_ext nbtrack", "alpha = 0.5", _SETUP, _FIT, "alpha = 0.05"
    )
    nb = nbformat.read(path, as_version=4)
    kernel = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_dir)}}
    )
    with kernel.setup_kernel():
        # The last cell runs before the fit: top to bottom would fit with alpha = 0.5.
        for index in (0, 1, 2, 4, 3):
            kernel.execute_cell(nb.cells[index], index)
    client = nbt.Client(str(store))
    (fit,) = client.search_runs(["0"], "attributes.run_name = 'fit'")
    assert fit.data.params["alpha"] == "0.05"

    project = export_run_lineage(fit.info.run_id, tmp_dir / "replay", client)
    main = (project.path / "main.py").read_text()
    assert main.index("alpha = 0.05") < main.index("with _project.track_cell('fit'")
    result = run_project(project.path, experiment_name="replay", client=client)
    replay = client.search_runs(
        [client.get_experiment_by_name("replay").experiment_id], "attributes.run_name = 'fit'"
    )
    assert result.status == "FINISHED"
    assert replay[0].data.metrics["score"] == pytest.approx(fit.data.metrics["score"])
    assert replay[0].data.params["alpha"] == "0.05"

    with pytest.raises(NotFoundError, match="has no lineage"):
        export_run_lineage(result.run_id, tmp_dir / "nothing", client)


def test_model_export_executes_the_notebook_and_keeps_its_model(tmp_dir: Path) -> None:
    path = _notebook(
        tmp_dir / "train.ipynb",
        "alpha = 0.5",
        _SETUP,
        "model = ElasticNet(alpha=alpha, max_iter=5000).fit(X_train, y_train)\n"
        "import json\n"
        "print('PREDICTIONS', json.dumps(model.predict(X_test[:5]).tolist()))",
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, path)
    client = nbt.Client(str(tmp_dir / "store"))
    done = export_model(
        path, tmp_dir / "model", model_var="model", parameters={"alpha": 0.1}, client=client
    )
    assert (done.path / "MLmodel").is_file()
    run = client.get_run(done.run_id)
    assert run.data.tags["nbtrack.export.notebook"] == "train.ipynb"
    loaded = nbt.load_model(str(done.path))
    assert loaded.unwrap_python_model().alpha == 0.1  # the injected parameter was used
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    expected = ElasticNet(alpha=0.1, max_iter=5000).fit(X_train, y_train).predict(X_test[:5])
    np.testing.assert_allclose(loaded.predict(X_test[:5]), expected)

    with pytest.raises(InvalidInput, match="--model-var must be a Python name"):
        export_model(path, tmp_dir / "m2", model_var="not a name", client=client)
    with pytest.raises(InvalidInput, match="NameError"):
        export_model(path, tmp_dir / "m3", model_var="missing", client=client)


def test_model_export_takes_the_last_logged_model(tmp_dir: Path) -> None:
    path = _notebook(
        tmp_dir / "logs.ipynb",
        "import nbtrack as nbt\n" + _SETUP,
        "with nbt.start_run():\n"
        "    first = ElasticNet(alpha=1.0).fit(X_train, y_train)\n"
        "    nbt.log_model(first, 'first')\n"
        "with nbt.start_run():\n"
        "    second = ElasticNet(alpha=0.01, max_iter=5000).fit(X_train, y_train)\n"
        "    nbt.log_model(second, 'second')",
    )
    client = nbt.Client(str(tmp_dir / "store"))
    done = export_model(path, tmp_dir / "model", client=client)
    assert nbt.load_model(str(done.path)).unwrap_python_model().alpha == 0.01
    assert done.model_uri.endswith("/second")
    silent = _notebook(tmp_dir / "silent.ipynb", "x = 1")
    with pytest.raises(NotFoundError, match="logged no model; name the variable"):
        export_model(silent, tmp_dir / "none", client=client)


def test_exported_project_runs_under_mlflow_run(tmp_dir: Path) -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = Path(ensure_mlflow(default_cache_dir()))
    project = export_mlproject(DATA / "train.ipynb", tmp_dir / "project").path
    db = tmp_dir / "mlflow.db"
    env = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{db}",
    }
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [
            str(python.parent / "mlflow"),
            "run",
            str(project),
            "--env-manager",
            "local",
            "-P",
            "alpha=0.2",
            "--experiment-name",
            "exported",
        ],
        cwd=tmp_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    query = (
        "import json, mlflow\n"
        f"mlflow.set_tracking_uri('sqlite:///{db}')\n"
        "runs = mlflow.search_runs(experiment_names=['exported'], output_format='list')\n"
        "print(json.dumps([{'name': r.info.run_name, 'status': r.info.status, "
        "'params': r.data.params, 'metrics': r.data.metrics, "
        "'parent': r.data.tags.get('mlflow.parentRunId')} for r in runs]))"
    )
    out = subprocess.run([str(python), "-c", query], env=env, capture_output=True, text=True)
    runs: list[dict[str, Any]] = json.loads(out.stdout)
    by_name = {r["name"]: r for r in runs}
    (parent,) = [r for r in runs if r["parent"] is None]
    assert parent["params"]["alpha"] == "0.2"
    assert parent["status"] == "FINISHED"
    train = by_name["train"]
    assert train["params"]["alpha"] == "0.2"
    assert np.isfinite(train["metrics"]["rmse"])
    assert {r["name"] for r in runs} == {parent["name"], "train", "score"}
