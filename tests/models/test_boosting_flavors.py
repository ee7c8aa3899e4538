"""The ``lightgbm`` and ``xgboost`` flavors, both ways with real MLflow 3.17 in its own venv.

nbtrack saves a booster and an estimator of each library; MLflow's
``pyfunc.load_model`` and its flavor's own ``load_model`` read them and
predict the same. MLflow saves the same four; ``nbt.load_model`` and
``nbtrack.<flavor>.load_model`` read them and predict the same. The venv gets
this interpreter's LightGBM, XGBoost, scikit-learn and cloudpickle versions
(a pickled estimator only loads under the same versions).
"""

from __future__ import annotations

import json
import os
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_iris

import nbtrack as nbt
from nbtrack.errors import NotFoundError

pytestmark = pytest.mark.slow

SYNCED = ("scikit-learn", "cloudpickle", "lightgbm", "xgboost-cpu")


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return ""


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    code = (
        "import json; from importlib.metadata import version, PackageNotFoundError\n"
        "out = {}\n"
        f"for d in {SYNCED!r}:\n"
        "    try: out[d] = version(d)\n"
        "    except PackageNotFoundError: out[d] = ''\n"
        "print(json.dumps(out))"
    )
    theirs = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)  # fmt: skip
    wanted = [f"{d}=={_dist_version(d)}" for d in SYNCED if _dist_version(d) and
              theirs.get(d) != _dist_version(d)]  # fmt: skip
    if wanted:
        subprocess.run([python, "-m", "pip", "install", "--quiet", *wanted], check=True)
    return python


def _run_mlflow(python: str, script: str, cwd: Path) -> Any:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"}  # fmt: skip
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    proc = subprocess.run(
        [python, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _models() -> dict[str, Any]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    return {
        "lgb_booster": lightgbm.train(params, lightgbm.Dataset(X, label=y), num_boost_round=3),
        "lgb_estimator": lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y),
        "xgb_booster": xgboost.train(
            {"objective": "multi:softprob", "num_class": 3}, xgboost.DMatrix(X, label=y), 3
        ),
        "xgb_estimator": xgboost.XGBClassifier(n_estimators=3).fit(X, y),
    }


_MLFLOW_SIDE = """
import json, sys
import lightgbm, xgboost, mlflow.pyfunc, mlflow.lightgbm, mlflow.xgboost
from sklearn.datasets import load_iris
X, y = load_iris(return_X_y=True, as_frame=True)
out = {"pyfunc": {}, "native": {}}
for name in NAMES:
    out["pyfunc"][name] = mlflow.pyfunc.load_model("ours/" + name).predict(X).tolist()
    flavor = mlflow.lightgbm if name.startswith("lgb") else mlflow.xgboost
    native = flavor.load_model("ours/" + name)
    out["native"][name] = type(native).__name__
params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
theirs = {
    "lgb_booster": lightgbm.train(params, lightgbm.Dataset(X, label=y), num_boost_round=3),
    "lgb_estimator": lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y),
    "xgb_booster": xgboost.train({"objective": "multi:softprob", "num_class": 3},
                                 xgboost.DMatrix(X, label=y), 3),
    "xgb_estimator": xgboost.XGBClassifier(n_estimators=3).fit(X, y),
}
out["theirs"] = {}
for name, model in theirs.items():
    flavor = mlflow.lightgbm if name.startswith("lgb") else mlflow.xgboost
    # Named requirements: MLflow would otherwise infer them in a subprocess per model.
    flavor.save_model(model, "theirs/" + name, input_example=X[:3], pip_requirements=["x"])
    out["theirs"][name] = mlflow.pyfunc.load_model("theirs/" + name).predict(X).tolist()
print(json.dumps(out))
"""


def test_both_ways_with_mlflow(mlflow_python: str, tmp_path: Path) -> None:
    X, _ = load_iris(return_X_y=True, as_frame=True)
    models = _models()
    ours = {}
    for name, model in models.items():
        info = nbt.save_model(model, tmp_path / "ours" / name, input_example=X[:3])
        flavor = "lightgbm" if name.startswith("lgb") else "xgboost"
        assert set(info.flavors) == {"python_function", flavor}
        ours[name] = nbt.load_model(tmp_path / "ours" / name).predict(X)
    got = _run_mlflow(mlflow_python, f"NAMES = {list(models)!r}\n{_MLFLOW_SIDE}", tmp_path)

    # MLflow reads what nbtrack wrote, with its own code, and predicts the same.
    for name in models:
        assert np.allclose(got["pyfunc"][name], ours[name]), name
    assert got["native"] == {
        "lgb_booster": "Booster",
        "lgb_estimator": "LGBMClassifier",
        "xgb_booster": "Booster",
        "xgb_estimator": "XGBClassifier",
    }

    # nbtrack reads what MLflow wrote and predicts what MLflow predicted.
    for name, theirs in got["theirs"].items():
        folder = tmp_path / "theirs" / name
        assert np.allclose(nbt.load_model(folder).predict(X), theirs), name
        native = (nbt.lightgbm if name.startswith("lgb") else nbt.xgboost).load_model(folder)
        assert type(native).__name__ == type(models[name]).__name__
        # MLflow's signature came along: the loaded model enforces it.
        assert nbt.load_model(folder).signature is not None


def test_logged_registered_and_evaluated_like_any_model(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    nbt.set_tracking_uri(str(tmp_path / "store"))
    model = xgboost.XGBClassifier(n_estimators=3).fit(X, y)
    with nbt.start_run():
        info = nbt.xgboost.log_model(model, name="model", input_example=X[:3],
                                     registered_model_name="iris-xgb")  # fmt: skip
    loaded = nbt.load_model("models:/iris-xgb/1")
    assert (loaded.predict(X) == model.predict(X)).all()
    frame = X.assign(label=y)
    result = nbt.evaluate(info.model_uri, frame, targets="label", model_type="classifier")
    assert result.metrics["accuracy_score"] == pytest.approx(float((model.predict(X) == y).mean()))


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    folder = tmp_path / "lgb"
    nbt.lightgbm.save_model(lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y), folder)
    (folder / "model.pkl").unlink()
    with pytest.raises(NotFoundError, match=r"model\.pkl"):
        nbt.load_model(folder)
