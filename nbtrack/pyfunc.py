"""``mlflow.pyfunc`` under nbtrack: one interface to every saved model.

The implementation lives in :mod:`nbtrack.models.pyfunc`; this module gives
it MLflow's import path, so ``from nbtrack.pyfunc import PythonModel`` and
``nbtrack.pyfunc.load_model(uri).predict(data)`` read as MLflow code does.
"""

from __future__ import annotations

from nbtrack.models.model import Model
from nbtrack.models.pyfunc import (
    PyFuncModel,
    PythonModel,
    PythonModelContext,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "Model",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "python_function"
