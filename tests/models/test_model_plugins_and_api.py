"""Flavor plug-ins through the ``nbtrack.flavors`` entry-point group; pyfunc's MLflow-style API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from plugin_dist import install_distribution

import nbtrack as nbt
import nbtrack.models as nbm
from nbtrack.errors import InvalidInput, NbtrackWarning
from nbtrack.models import flavors, pyfunc

PLUGIN = """
from nbtrack.models.flavors import SavedFlavor


class Upper:
    name = "upper_test"
    loader_modules = ("upper_test_loader",)

    def accepts(self, model):
        return model == "UPPER"

    def save(self, model, path, **options):
        (path / "marker.txt").write_text("upper")
        return SavedFlavor({"python_function": {"loader_module": "upper_test_loader"},
                            "upper_test": {"file": "marker.txt"}})

    def load(self, path, mlmodel):
        class P:
            def predict(self, model_input, params=None):
                return [str(v).upper() for v in model_input]
        return P()


FLAVOR = Upper()
"""


def _reset_registry() -> None:
    flavors._registry.clear()
    flavors._builtins_loaded = flavors._entry_points_loaded = False


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real installed distribution (a dist-info folder on sys.path) declaring flavors."""
    site = install_distribution(
        tmp_path / "site",
        "nbt_upper_plugin",
        PLUGIN,
        "[nbtrack.flavors]\nupper = nbt_upper_plugin:FLAVOR\n"
        "broken = nbt_no_such_module_xyz:FLAVOR\n",
    )
    monkeypatch.syspath_prepend(str(site))
    _reset_registry()
    yield site
    _reset_registry()
    sys.modules.pop("nbt_upper_plugin", None)


def test_entry_point_flavor_saves_and_loads(plugin_on_path: Path, tmp_path: Path) -> None:
    with pytest.warns(NbtrackWarning, match="nbt_no_such_module_xyz"):
        names = [f.name for f in flavors.registered_flavors()]
    builtins = ["lightgbm", "xgboost", "sklearn", "python_model", "callable"]
    assert names[:5] == builtins and "upper_test" in names
    nbm.save_model("UPPER", tmp_path / "m")
    assert (tmp_path / "m" / "marker.txt").read_text() == "upper"
    assert nbm.load_model(tmp_path / "m").predict(["a", "b"]) == ["A", "B"]


def test_import_of_models_stays_light() -> None:
    heavy = ("pandas", "numpy", "sklearn", "cloudpickle", "yaml", "sqlalchemy", "skops")
    code = f"import sys, nbtrack.models; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


class Adder(pyfunc.PythonModel):
    def load_context(self, context: pyfunc.PythonModelContext) -> None:
        self.n = json.loads(Path(context.artifacts["n"]).read_text())

    def predict(self, context: Any, model_input: Any) -> Any:
        return list(model_input["x"] + self.n)


def test_pyfunc_save_and_log_model_like_mlflow(tracking_uri: str, tmp_path: Path) -> None:
    n = tmp_path / "n.json"
    n.write_text("5")
    frame = pd.DataFrame({"x": [1, 2]})
    pyfunc.save_model(tmp_path / "m", python_model=Adder(), artifacts={"n": n})
    assert pyfunc.load_model(tmp_path / "m").predict(frame) == [6, 7]
    with nbt.start_run():
        info = pyfunc.log_model(
            name="adder", python_model=Adder(), artifacts={"n": n}, input_example=frame
        )
    loaded = pyfunc.load_model(info.model_uri)
    assert loaded.predict(frame) == [6, 7]
    assert loaded.signature is not None
    assert repr(loaded).startswith("PyFuncModel(")
    with pytest.raises(InvalidInput, match="python_model="):
        pyfunc.save_model(tmp_path / "none")
    with pytest.raises(InvalidInput, match="python_model="):
        pyfunc.log_model("x")


def test_log_model_accepts_mlflow2_artifact_path(tracking_uri: str) -> None:
    with nbt.start_run():
        info = nbm.log_model(len, artifact_path="legacy")
        assert info.artifact_path == "legacy"
        with pytest.raises(InvalidInput, match="not both"):
            nbm.log_model(len, "a", artifact_path="b")


def test_registering_first_keeps_builtins_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flavors, "_registry", {})
    monkeypatch.setattr(flavors, "_builtins_loaded", False)
    monkeypatch.setattr(flavors, "_entry_points_loaded", True)

    class Mine:
        name = "mine_test"
        loader_modules: tuple[str, ...] = ()

        def accepts(self, model: Any) -> bool:
            return model is sum

    flavors.register_flavor(Mine())  # type: ignore[arg-type]
    # sum is callable, but a plug-in that claims it wins over the "any callable" fallback.
    assert flavors.flavor_for_model(sum).name == "mine_test"
    assert flavors.flavor_for_model(len).name == "callable"
    assert [f.name for f in flavors.registered_flavors()] == [
        "lightgbm",
        "xgboost",
        "sklearn",
        "python_model",
        "callable",
        "mine_test",
    ]
