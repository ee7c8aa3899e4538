"""The ``lightgbm`` flavor: LightGBM boosters and estimators, in MLflow's folder layout.

MLflow's ``mlflow.lightgbm`` writes a ``Booster`` with LightGBM's own
``save_model`` (``model.lgb``, a text file any LightGBM reads) and an
estimator of the scikit-learn API (``LGBMClassifier``…) with the sklearn
serialisations (``model.pkl`` by cloudpickle by default). The ``MLmodel``
keys are MLflow's (``lgb_version``, ``data``, ``model_class``,
``serialization_format``), and the ``python_function`` loader is
``mlflow.lightgbm``, so each side loads what the other wrote.

Estimators are pickled: loading one runs code from the file, as for the
sklearn flavor. A booster file is plain text and runs nothing. MLflow 3
writes estimators with skops by default; those load with skops' defaults
plus LightGBM's own classes (:data:`SKOPS_TRUSTED`, fixed here: the
``skops_trusted_types`` an MLmodel lists are not read, since a crafted
folder would vouch for itself).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.flavors import SavedFlavor, reject_unknown
from nbtrack.models.model import Model

__all__ = ["LIGHTGBM", "SKOPS_TRUSTED", "LightgbmFlavor", "LightgbmPredictor", "load_lightgbm"]

BOOSTER_CLASS = "lightgbm.basic.Booster"
_BOOSTER_FILE = "model.lgb"
#: What a skops file of a LightGBM estimator may hold beyond skops' defaults.
SKOPS_TRUSTED = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMModel",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.sklearn.LGBMRegressor",
]


class LightgbmPredictor:
    """``predict`` of the booster or estimator (probabilities for a multiclass booster)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``model_input``; ``params`` go to the model's ``predict``."""
        return self.model.predict(model_input, **(params or {}))


class LightgbmFlavor:
    """Save and load LightGBM models (see the module docstring)."""

    name = "lightgbm"
    loader_modules: tuple[str, ...] = ("mlflow.lightgbm",)

    def accepts(self, model: Any) -> bool:
        """True for ``lightgbm.Booster`` and the scikit-learn API's ``LGBMModel`` subclasses."""
        if "lightgbm" not in sys.modules:
            return False  # nothing can be a LightGBM model if LightGBM was never imported
        import lightgbm

        return isinstance(model, (lightgbm.Booster, lightgbm.LGBMModel))

    def save(
        self, model: Any, path: Path, serialization_format: str = "cloudpickle", **options: Any
    ) -> SavedFlavor:
        """Write the booster (``model.lgb``) or the estimator (``model.pkl``) and describe it."""
        import lightgbm

        reject_unknown(self.name, options, ("serialization_format",))
        if isinstance(model, lightgbm.Booster):
            filename = _BOOSTER_FILE
            model.save_model(str(path / filename))
            modules = ["lightgbm", "numpy", "pandas"]
        else:
            from nbtrack.models.flavors.sklearn import SKLEARN

            # The sklearn flavor's writer is the one MLflow's lightgbm flavor uses too;
            # only the MLmodel blocks differ.
            written = SKLEARN.save(model, path, serialization_format=serialization_format)
            filename = written.flavors["sklearn"]["pickled_model"]
            modules = ["lightgbm", *written.modules]
        cls = type(model)
        return SavedFlavor(
            flavors={
                "python_function": {"loader_module": "mlflow.lightgbm", "data": filename},
                "lightgbm": {
                    "lgb_version": lightgbm.__version__,
                    "data": filename,
                    "model_class": f"{cls.__module__}.{cls.__qualname__}",
                    "code": None,
                    "serialization_format": serialization_format,
                    "skops_trusted_types": None,
                },
            },
            modules=modules,
        )

    def load(self, path: Path, mlmodel: Model) -> LightgbmPredictor:
        """Load a LightGBM model from a folder written by nbtrack or by MLflow."""
        return LightgbmPredictor(load_lightgbm(path, mlmodel))


def load_lightgbm(path: Path, mlmodel: Model) -> Any:
    """The booster or estimator a ``lightgbm`` model folder holds.

    Raises
    ------
    NotFoundError
        The file the ``MLmodel`` names is missing (it is named).
    InvalidInput
        The ``MLmodel`` names no file, or an unknown serialisation.
    """
    conf = mlmodel.flavors.get("lightgbm", {})
    filename = conf.get("data") or mlmodel.pyfunc_conf.get("data")
    if not filename:
        raise InvalidInput(f"The MLmodel at {path} names no LightGBM model file ('data')")
    target = path / filename
    if not target.is_file():
        raise NotFoundError(f"Model file {target} is missing")
    if conf.get("model_class", BOOSTER_CLASS) == BOOSTER_CLASS:
        import lightgbm

        return lightgbm.Booster(model_file=str(target))
    from nbtrack.models.flavors.sklearn import FORMATS, load_estimator

    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt not in FORMATS:
        raise InvalidInput(f"The model at {path} uses serialization format {fmt!r}")
    return load_estimator(target, fmt, trusted=SKOPS_TRUSTED if fmt == "skops" else None)


LIGHTGBM = LightgbmFlavor()
