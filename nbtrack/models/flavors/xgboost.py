"""The ``xgboost`` flavor: XGBoost boosters and estimators, in MLflow's folder layout.

MLflow's ``mlflow.xgboost`` writes every model, ``Booster`` or estimator of
the scikit-learn API (``XGBClassifier``…), with XGBoost's own
``save_model`` in UBJSON (``model.ubj``) and records the class, so loading
is ``cls()`` then ``load_model``: no pickle, no code run from the file. The
``MLmodel`` keys are MLflow's (``xgb_version``, ``data``, ``model_class``,
``model_format``) and the ``python_function`` loader is ``mlflow.xgboost``,
so each side loads what the other wrote. A booster predicts on a
``DMatrix`` built from the input, as MLflow's pyfunc wrapper does.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.flavors import SavedFlavor, reject_unknown
from nbtrack.models.model import Model

__all__ = ["XGBOOST", "XgboostFlavor", "XgboostPredictor", "load_xgboost"]

BOOSTER_CLASS = "xgboost.core.Booster"
MODEL_FORMATS = ("ubj", "json", "deprecated")


class XgboostPredictor:
    """``predict`` of an estimator, or of a booster on a ``DMatrix`` of the input."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``model_input``; ``params`` go to the model's ``predict``."""
        import xgboost

        if isinstance(self.model, xgboost.Booster):
            return self.model.predict(xgboost.DMatrix(model_input), **(params or {}))
        return self.model.predict(model_input, **(params or {}))


class XgboostFlavor:
    """Save and load XGBoost models (see the module docstring)."""

    name = "xgboost"
    loader_modules: tuple[str, ...] = ("mlflow.xgboost",)

    def accepts(self, model: Any) -> bool:
        """True for ``xgboost.Booster`` and the scikit-learn API's ``XGBModel`` subclasses."""
        if "xgboost" not in sys.modules:
            return False  # nothing can be an XGBoost model if XGBoost was never imported
        import xgboost

        return isinstance(model, (xgboost.Booster, xgboost.XGBModel))

    def save(
        self, model: Any, path: Path, model_format: str = "ubj", **options: Any
    ) -> SavedFlavor:
        """Write ``model.<model_format>`` with XGBoost's ``save_model`` and describe it."""
        import xgboost

        reject_unknown(self.name, options, ("model_format",))
        if model_format not in MODEL_FORMATS:
            raise InvalidInput(
                f"model_format must be one of {list(MODEL_FORMATS)}, not {model_format!r}"
            )
        filename = f"model.{model_format}"
        model.save_model(str(path / filename))
        cls = type(model)
        return SavedFlavor(
            flavors={
                "python_function": {"loader_module": "mlflow.xgboost", "data": filename},
                "xgboost": {
                    "xgb_version": xgboost.__version__,
                    "data": filename,
                    "model_class": f"{cls.__module__}.{cls.__qualname__}",
                    "model_format": model_format,
                    "code": None,
                },
            },
            modules=["xgboost", "numpy", "pandas"],
        )

    def load(self, path: Path, mlmodel: Model) -> XgboostPredictor:
        """Load an XGBoost model from a folder written by nbtrack or by MLflow."""
        return XgboostPredictor(load_xgboost(path, mlmodel))


def load_xgboost(path: Path, mlmodel: Model) -> Any:
    """The booster or estimator an ``xgboost`` model folder holds.

    Raises
    ------
    NotFoundError
        The file the ``MLmodel`` names is missing (it is named).
    InvalidInput
        No file is named, or ``model_class`` is not an XGBoost class.
    """
    conf = mlmodel.flavors.get("xgboost", {})
    filename = conf.get("data") or mlmodel.pyfunc_conf.get("data")
    if not filename:
        raise InvalidInput(f"The MLmodel at {path} names no XGBoost model file ('data')")
    target = path / filename
    if not target.is_file():
        raise NotFoundError(f"Model file {target} is missing")
    qualified = conf.get("model_class", BOOSTER_CLASS)
    module_name, _, class_name = qualified.rpartition(".")
    # The class comes from the folder: only XGBoost's own classes are instantiated.
    if module_name.split(".")[0] != "xgboost":
        raise InvalidInput(
            f"The MLmodel at {path} names model_class {qualified!r}, not an XGBoost class"
        )
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if cls is None:
        raise InvalidInput(f"XGBoost has no class {qualified!r} (the MLmodel at {path})")
    model = cls()
    model.load_model(str(target))
    return model


XGBOOST = XgboostFlavor()
