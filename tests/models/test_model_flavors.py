"""Round trips per flavor through a model folder: sklearn, PythonModel, callables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import BaseEstimator
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack.models as nbm
from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.flavors import get_flavor, register_flavor, registered_flavors


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, Any]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=500).fit(X, y)


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle", "skops"])
def test_sklearn_round_trip(tmp_path: Path, iris: tuple[pd.DataFrame, Any], fmt: str) -> None:
    X, clf = iris
    nbm.save_model(clf, tmp_path / "m", input_example=X[:3], serialization_format=fmt)
    loaded = nbm.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    conf = loaded.metadata.flavors["sklearn"]
    assert conf["serialization_format"] == fmt
    assert (tmp_path / "m" / conf["pickled_model"]).is_file()
    assert loaded.metadata.pyfunc_conf["loader_module"] == "mlflow.sklearn"
    assert loaded.metadata.pyfunc_conf["model_path"] == conf["pickled_model"]


def test_sklearn_folder_layout_and_mlmodel(tmp_path: Path, iris: tuple[pd.DataFrame, Any]) -> None:
    X, clf = iris
    nbm.save_model(clf, tmp_path / "m", input_example=X[:2])
    folder = tmp_path / "m"
    assert sorted(p.name for p in folder.iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.pkl",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    doc = yaml.safe_load((folder / "MLmodel").read_text())
    assert "mlflow_version" not in doc and doc["format_version"] == 1
    assert doc["nbtrack_version"] and len(doc["model_uuid"]) == 32
    assert doc["saved_input_example_info"] == {
        "artifact_path": "input_example.json",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
    }
    assert json.loads(doc["signature"]["outputs"]) == [{"type": "long", "required": True}]
    assert doc["flavors"]["python_function"]["env"] == {
        "conda": "conda.yaml",
        "virtualenv": "python_env.yaml",
    }
    requirements = (folder / "requirements.txt").read_text().split()
    names = {line.split("==")[0].lower() for line in requirements}
    assert {"scikit-learn", "numpy", "cloudpickle"} <= names
    assert all("==" in line for line in requirements)
    env = yaml.safe_load((folder / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((folder / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": requirements}
    example = json.loads((folder / "input_example.json").read_text())
    assert example["columns"] == list(X.columns) and len(example["data"]) == 2
    serving = json.loads((folder / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": example}
    pd.testing.assert_frame_equal(
        nbm.load_model(folder).input_example, X[:2].reset_index(drop=True)
    )


def test_numpy_example_gives_tensor_signature(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    nbm.save_model(clf, tmp_path / "m", input_example=X[:2])
    loaded = nbm.load_model(tmp_path / "m")
    assert loaded.signature is not None and loaded.signature.inputs.is_tensor
    np.testing.assert_array_equal(loaded.predict(X[:5].tolist()), clf.predict(X[:5]))
    with pytest.raises(InvalidInput, match="shape"):
        loaded.predict(X[:5, :3])


def test_predict_names_the_missing_column(tmp_path: Path, iris: tuple[pd.DataFrame, Any]) -> None:
    X, clf = iris
    nbm.save_model(clf, tmp_path / "m", input_example=X[:2])
    loaded = nbm.load_model(tmp_path / "m")
    with pytest.raises(InvalidInput, match="'petal width \\(cm\\)'"):
        loaded.predict(X.drop(columns=["petal width (cm)"]))


class Scaler(nbm.PythonModel):
    """Multiplies the input by a factor read from an artifact at load time."""

    def load_context(self, context: nbm.PythonModelContext) -> None:
        self.factor = json.loads(Path(context.artifacts["config"]).read_text())["factor"]

    def predict(self, context: nbm.PythonModelContext, model_input: Any, params: Any = None) -> Any:
        offset = (params or {}).get("offset", 0)
        return model_input["x"] * self.factor + offset


def test_python_model_with_artifact(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"factor": 3}))
    example = pd.DataFrame({"x": [1.0, 2.0]})
    nbm.save_model(Scaler(), tmp_path / "m", artifacts={"config": config}, input_example=example)
    config.unlink()  # the model folder holds its own copy
    loaded = nbm.load_model(tmp_path / "m")
    assert list(loaded.predict(example)) == [3.0, 6.0]
    assert list(loaded.predict(example, params={"offset": 1})) == [4.0, 7.0]
    assert isinstance(loaded.unwrap_python_model(), Scaler)
    conf = loaded.metadata.pyfunc_conf
    assert conf["loader_module"] == "nbtrack_pyfunc_loader" and conf["code"] == "code"
    assert (tmp_path / "m" / "code" / "nbtrack_pyfunc_loader.py").is_file()
    with pytest.raises(InvalidInput, match="'x'"):
        loaded.predict(pd.DataFrame({"y": [1.0]}))


def test_python_model_code_paths(tmp_path: Path) -> None:
    helper = tmp_path / "src" / "nbt_test_helper_mod.py"
    helper.parent.mkdir()
    helper.write_text("def double(v):\n    return v * 2\n")

    class UsesHelper(nbm.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            import nbt_test_helper_mod

            return nbt_test_helper_mod.double(model_input)

    nbm.save_model(UsesHelper(), tmp_path / "m", code_paths=[helper])
    assert (tmp_path / "m" / "code" / "nbt_test_helper_mod.py").is_file()
    assert nbm.load_model(tmp_path / "m").predict(21) == 42


def test_lambda_and_closure(tmp_path: Path) -> None:
    nbm.save_model(lambda df: df.sum(axis=1), tmp_path / "lam")
    assert list(nbm.load_model(tmp_path / "lam").predict(pd.DataFrame({"a": [1], "b": [2]}))) == [3]

    def make(bias: float) -> Any:
        def predict(model_input: Any) -> Any:
            return np.asarray(model_input) + bias

        return predict

    nbm.save_model(make(10.0), tmp_path / "closure", input_example=np.zeros((1, 2)))
    loaded = nbm.load_model(tmp_path / "closure")
    assert loaded.metadata.pyfunc_conf["model_kind"] == "callable"
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 2))), [[11.0, 11.0]])


def test_bad_inputs(tmp_path: Path, tmp_dir: Path, iris: tuple[pd.DataFrame, Any]) -> None:
    _, clf = iris
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(InvalidInput, match="not an empty folder"):
        nbm.save_model(clf, tmp_path / "full")
    with pytest.raises(InvalidInput, match=r"Cannot save a builtins\.int"):
        nbm.save_model(42, tmp_path / "int")
    with pytest.raises(InvalidInput, match="serialization_format"):
        nbm.save_model(clf, tmp_path / "fmt", serialization_format="joblib")
    with pytest.raises(InvalidInput, match="does not take serialisation_format"):
        nbm.save_model(clf, tmp_path / "typo", serialisation_format="pickle")
    assert not (tmp_path / "typo").exists()  # a refused model leaves no folder
    with pytest.raises(InvalidInput, match="does not take artefacts"):
        nbm.save_model(len, tmp_path / "typo2", artefacts={})
    with pytest.raises(InvalidInput, match="artifacts are only for PythonModel"):
        nbm.save_model(len, tmp_path / "c", artifacts={"a": __file__})
    with pytest.raises(InvalidInput, match="signature must be a ModelSignature"):
        nbm.save_model(clf, tmp_path / "sig", signature="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="Unknown model flavor"):
        nbm.save_model(clf, tmp_path / "fl", flavor="onnx")
    with pytest.raises(NotFoundError, match="does not exist"):
        nbm.load_model(tmp_path / "nowhere")
    with pytest.raises(NotFoundError, match="MLmodel"):
        nbm.load_model(tmp_path / "full")
    with pytest.raises(NotFoundError, match="'iris' does not exist"):
        nbm.load_model("models:/iris/1")
    with pytest.raises(NotFoundError, match="'iris' does not exist"):
        nbm.load_model("models:/iris@champion")
    with pytest.raises(InvalidInput, match="Unsupported model URI"):
        nbm.load_model("s3://bucket/model")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(InvalidInput, match="no 'flavors'"):
        nbm.load_model(tmp_path / "bad")


def test_missing_model_file_and_unknown_loader(
    tmp_path: Path, iris: tuple[pd.DataFrame, Any]
) -> None:
    _, clf = iris
    nbm.save_model(clf, tmp_path / "m")
    (tmp_path / "m" / "model.pkl").unlink()
    with pytest.raises(NotFoundError, match=r"model\.pkl"):
        nbm.load_model(tmp_path / "m")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: no_such_loader_mod\n"
    )
    with pytest.raises(InvalidInput, match="no_such_loader_mod"):
        nbm.load_model(tmp_path / "x")


def test_generic_loader_module_with_code(tmp_path: Path) -> None:
    """The smallest MLflow-style custom folder (loader_module + code + data) loads too."""
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "data" / "config.json").write_text('{"offset": 100}')
    (folder / "code" / "nbt_custom_loader_mod.py").write_text(
        "import json\n"
        "class M:\n"
        "    def __init__(self, o): self.o = o\n"
        "    def predict(self, x, params=None): return x.sum(axis=1) + self.o\n"
        "def _load_pyfunc(path):\n"
        "    return M(json.load(open(path))['offset'])\n"
    )
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: nbt_custom_loader_mod\n"
        "    code: code\n    data: data/config.json\n"
    )
    assert list(nbm.load_model(folder).predict(pd.DataFrame({"a": [1], "b": [2]}))) == [103]


class _EchoFlavor:
    name = "echo_test"
    loader_modules = ("echo_test_loader",)

    def accepts(self, model: Any) -> bool:
        return model == "echo"

    def save(self, model: Any, path: Path, **options: Any) -> Any:
        from nbtrack.models.flavors import SavedFlavor

        return SavedFlavor({"python_function": {"loader_module": "echo_test_loader"}})

    def load(self, path: Path, mlmodel: Any) -> Any:
        class Echo:
            def predict(self, model_input: Any, params: Any = None) -> Any:
                return model_input

        return Echo()


def test_flavor_registry_accepts_plugins(tmp_path: Path) -> None:
    builtins = ["lightgbm", "xgboost", "sklearn", "python_model", "callable"]
    assert [f.name for f in registered_flavors()][:5] == builtins
    register_flavor(_EchoFlavor())
    try:
        assert get_flavor("echo_test").name == "echo_test"
        nbm.save_model("echo", tmp_path / "m")
        assert nbm.load_model(tmp_path / "m").predict("hi") == "hi"
    finally:
        from nbtrack.models import flavors

        flavors._registry.pop("echo_test")


class HalfEstimator(BaseEstimator):
    """An estimator skops does not know, so its files need explicit trust."""

    def fit(self, X: Any, y: Any = None) -> HalfEstimator:
        return self

    def predict(self, X: Any) -> Any:
        return np.asarray(X)[:, 0] / 2


def test_skops_refuses_untrusted_types_and_names_them(tmp_path: Path) -> None:
    from nbtrack.models.flavors.sklearn import load_estimator

    nbm.save_model(HalfEstimator(), tmp_path / "m", serialization_format="skops")
    with pytest.raises(InvalidInput, match="HalfEstimator") as err:
        nbm.load_model(tmp_path / "m")
    assert "load_estimator(path, 'skops', trusted=[...])" in str(err.value)
    # The MLmodel cannot grant trust (a crafted model would trust itself): the caller does.
    trusted = [f"{HalfEstimator.__module__}.HalfEstimator"]
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["skops_trusted_types"] = trusted
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidInput, match="HalfEstimator"):
        nbm.load_model(tmp_path / "m")
    estimator = load_estimator(tmp_path / "m" / "model.skops", "skops", trusted=trusted)
    assert estimator.predict(np.array([[4.0]])).tolist() == [2.0]


def test_optional_columns_may_be_missing() -> None:
    from nbtrack.models.signature import ColSpec, ModelSignature, Schema, enforce

    sig = ModelSignature(Schema((ColSpec("double", "a"), ColSpec("string", "b", required=False))))
    assert list(enforce(sig, pd.DataFrame({"a": [1.0]})).columns) == ["a"]
