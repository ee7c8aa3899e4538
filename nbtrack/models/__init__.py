"""Models in MLflow's format: save, log and load them, with signatures and flavors.

Importing this package is light: pandas, numpy, scikit-learn and cloudpickle
load inside the functions that need them.
"""

from __future__ import annotations

from nbtrack.models.api import log_model, register_model, save_model
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
    "infer_signature",
    "load_model",
    "log_model",
    "register_model",
    "save_model",
]
