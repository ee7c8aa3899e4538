"""MLflow interop both ways, with real MLflow 3.17 in its own venv (the bench venv).

(a) models saved here load and predict with ``mlflow.pyfunc.load_model``;
(b) models saved by ``mlflow.sklearn.save_model`` (skops, cloudpickle, pickle)
load and predict with ``nbtrack.models.load_model``.

The venv is created on first use by ``bench.runner.ensure_mlflow``. Pickles
only load across interpreters with the same scikit-learn, so the fixture
installs this interpreter's scikit-learn, skops and cloudpickle versions into
the venv when they differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack.models as nbm
from nbtrack.errors import InvalidInput

pytestmark = pytest.mark.slow

SYNCED = ("scikit-learn", "skops", "cloudpickle")


def _venv_versions(python: str) -> dict[str, str]:
    code = (
        "import json; from importlib.metadata import version, PackageNotFoundError\n"
        "out = {}\n"
        f"for d in {SYNCED!r}:\n"
        "    try: out[d] = version(d)\n"
        "    except PackageNotFoundError: out[d] = ''\n"
        "print(json.dumps(out))"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    theirs = _venv_versions(python)
    wanted = [f"{d}=={version(d)}" for d in SYNCED if theirs.get(d) != version(d)]
    if wanted:
        subprocess.run([python, "-m", "pip", "install", "--quiet", *wanted], check=True)
    return python


def _run_mlflow(python: str, script: str, cwd: Path) -> Any:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    # MLflow 3.17 refuses to deserialise any sklearn model (skops included) without this.
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    proc = subprocess.run(
        [python, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _iris() -> tuple[pd.DataFrame, Any]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


class Doubler(nbm.PythonModel):
    """A python model MLflow must load through the loader module shipped in the folder."""

    def load_context(self, context: Any) -> None:
        self.factor = json.loads(Path(context.artifacts["cfg"]).read_text())["factor"]

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return (model_input["x"] * self.factor).tolist()


def test_nbtrack_models_load_in_mlflow(mlflow_python: str, tmp_path: Path) -> None:
    X, y = _iris()
    clf = LogisticRegression(max_iter=500).fit(X, y)
    for fmt in ("cloudpickle", "pickle", "skops"):
        nbm.save_model(clf, tmp_path / fmt, input_example=X[:2], serialization_format=fmt)
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"factor": 2}')
    # A class defined in a test module is pickled by reference unless told otherwise;
    # a notebook's classes live in __main__ and are pickled by value anyway.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        nbm.save_model(Doubler(), tmp_path / "pymodel", artifacts={"cfg": cfg})
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    nbm.save_model(lambda df: (df["x"] + 1).tolist(), tmp_path / "fn")

    script = f"""
import json, pandas as pd, mlflow.pyfunc
X = pd.DataFrame({X.iloc[::10].values.tolist()!r}, columns={list(X.columns)!r})
out = {{}}
for fmt in ("cloudpickle", "pickle", "skops"):
    out[fmt] = mlflow.pyfunc.load_model(fmt).predict(X).tolist()
m = mlflow.pyfunc.load_model("cloudpickle")
out["schema_names"] = m.metadata.get_input_schema().input_names()
out["output_types"] = [t.name for t in m.metadata.get_output_schema().input_types()]
out["example_shape"] = list(m.input_example.shape)
try:
    m.predict(X.drop(columns=["petal width (cm)"]))
    out["mlflow_enforced"] = False
except mlflow.exceptions.MlflowException as exc:
    out["mlflow_enforced"] = "petal width (cm)" in str(exc)
frame = pd.DataFrame({{"x": [1.0, 2.5]}})
out["pymodel"] = list(mlflow.pyfunc.load_model("pymodel").predict(frame))
out["fn"] = list(mlflow.pyfunc.load_model("fn").predict(frame))
import sys
# The loader put stand-ins for nbtrack's base classes in sys.modules: no real nbtrack here.
out["real_nbtrack"] = getattr(sys.modules.get("nbtrack"), "__file__", None) is not None
print(json.dumps(out))
"""
    out = _run_mlflow(mlflow_python, script, tmp_path)
    expected = clf.predict(X.iloc[::10]).tolist()
    assert out["cloudpickle"] == out["pickle"] == out["skops"] == expected
    # MLflow reads our signature and input example, and enforces the signature itself.
    assert out["schema_names"] == list(X.columns)
    assert out["output_types"] == ["long"]
    assert out["example_shape"] == [2, 4]
    assert out["mlflow_enforced"] is True
    assert out["pymodel"] == [2.0, 5.0]
    assert out["fn"] == [2.0, 3.5]
    assert out["real_nbtrack"] is False  # the python model loaded without nbtrack installed


def test_mlflow_models_load_in_nbtrack(mlflow_python: str, tmp_path: Path) -> None:
    script = """
import json, mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
clf = LogisticRegression(max_iter=500).fit(X, y)
mlflow.sklearn.save_model(clf, "skops_default", input_example=X[:2])
mlflow.sklearn.save_model(clf, "pickled", serialization_format="pickle")
mlflow.sklearn.save_model(clf, "cloudpickled", serialization_format="cloudpickle")
# As autolog logs it: fitted on an array, tensor signature, cloudpickle.
arrays = LogisticRegression(max_iter=500).fit(X.values, y)
mlflow.sklearn.save_model(
    arrays, "tensor", input_example=X.values[:2], serialization_format="cloudpickle"
)
print(json.dumps([clf.predict(X).tolist(), arrays.predict(X.values).tolist()]))
"""
    expected, expected_tensor = _run_mlflow(mlflow_python, script, tmp_path)
    X, _ = _iris()
    skops_model = nbm.load_model(tmp_path / "skops_default")
    assert skops_model.metadata.flavors["sklearn"]["serialization_format"] == "skops"
    assert skops_model.metadata.extra["mlflow_version"].startswith("3.17")
    assert skops_model.predict(X).tolist() == expected
    assert skops_model.signature is not None
    pd.testing.assert_frame_equal(skops_model.input_example, X[:2].reset_index(drop=True))
    with pytest.raises(InvalidInput, match="'sepal width \\(cm\\)'"):
        skops_model.predict(X.drop(columns=["sepal width (cm)"]))
    for folder in ("pickled", "cloudpickled"):
        loaded = nbm.load_model(tmp_path / folder)
        np.testing.assert_array_equal(loaded.predict(X), expected)
    tensor = nbm.load_model(tmp_path / "tensor")
    assert tensor.signature is not None and tensor.signature.inputs.is_tensor
    assert tensor.predict(X.values).tolist() == expected_tensor
    assert tensor.predict(X).tolist() == expected_tensor  # a DataFrame becomes the array
    with pytest.raises(InvalidInput, match="shape"):
        tensor.predict(X.values[:, :3])
