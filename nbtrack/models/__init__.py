"""Models in MLflow's format: save, log and load them, with signatures and flavors.

Importing this package is light: pandas, numpy, scikit-learn and cloudpickle
load inside the functions that need them.
"""

from __future__ import annotations

from typing import Any

from nbtrack.models.api import log_model, register_model, save_model
from nbtrack.models.info import get_model_info, set_signature
from nbtrack.models.model import Model, ModelInfo
from nbtrack.models.pyfunc import PyFuncModel, PythonModel, PythonModelContext, load_model
from nbtrack.models.signature import ModelSignature, infer_signature

__all__ = [
    "Model",
    "ModelInfo",
    "ModelSignature",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "evaluate",
    "get_model_info",
    "infer_signature",
    "load_model",
    "log_model",
    "make_metric",
    "register_model",
    "save_model",
    "set_signature",
]


def __getattr__(name: str) -> Any:
    # ``mlflow.models.evaluate``: the evaluation feature loads only when asked for.
    if name in ("evaluate", "make_metric"):
        import nbtrack.evaluation

        return getattr(nbtrack.evaluation, name)
    raise AttributeError(f"module 'nbtrack.models' has no attribute {name!r}")
