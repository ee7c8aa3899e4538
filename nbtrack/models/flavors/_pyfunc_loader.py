"""Loader of cloudpickled python models, shipped in each as ``code/nbtrack_pyfunc_loader.py``.

MLflow unpickles a ``python_model`` only if its class subclasses MLflow's own
``PythonModel``, and nbtrack must not import MLflow. So the model folder names
this file as its ``loader_module`` and ships it under ``code/``: MLflow (and
any tool speaking its format) puts ``code/`` on ``sys.path``, imports it and
calls ``_load_pyfunc(path)``. It needs only the standard library, PyYAML and
cloudpickle; where nbtrack is not installed it provides stand-ins for the
base classes a pickled model refers to.
"""

from __future__ import annotations

import inspect
import os
import sys
import types
from typing import Any

MODEL_FILE = "python_model.pkl"


class _Context:
    """Stand-in for ``nbtrack.models.pyfunc.PythonModelContext`` where nbtrack is absent."""

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any] | None = None):
        self.artifacts = artifacts
        self.model_config = model_config or {}


class _PythonModel:
    """Stand-in for ``nbtrack.models.pyfunc.PythonModel`` where nbtrack is absent."""

    def load_context(self, context: Any) -> None:
        """Do nothing: subclasses override it."""


def _ensure_base_classes() -> Any:
    try:
        from nbtrack.models import pyfunc as real

        return real
    except ImportError:
        pass
    shim = types.ModuleType("nbtrack.models.pyfunc")
    setattr(shim, "PythonModel", _PythonModel)  # noqa: B010 -- a module built at run time
    setattr(shim, "PythonModelContext", _Context)  # noqa: B010
    for name in ("nbtrack", "nbtrack.models"):
        package = sys.modules.setdefault(name, types.ModuleType(name))
        setattr(package, "__path__", [])  # noqa: B010
    setattr(sys.modules["nbtrack.models"], "pyfunc", shim)  # noqa: B010
    sys.modules["nbtrack.models.pyfunc"] = shim
    return shim


def _accepts_params(fn: Any) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class _LoadedPythonModel:
    """Wraps a loaded python model (or plain callable) behind ``predict(model_input, params)``."""

    def __init__(self, obj: Any, kind: str, context: Any) -> None:
        self.python_model = obj
        self.kind = kind
        self.context = context
        if kind == "python_model":
            obj.load_context(context)
            self._params = _accepts_params(obj.predict)
        else:
            self._params = _accepts_params(obj)

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        obj = self.python_model
        if self.kind == "python_model":
            if self._params:
                return obj.predict(self.context, model_input, params=params)
            return obj.predict(self.context, model_input)
        if self._params:
            return obj(model_input, params=params)
        return obj(model_input)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _LoadedPythonModel:
    """Load the python model in the model folder ``path`` (MLflow's loader-module protocol)."""
    import cloudpickle
    import yaml

    folder = path if os.path.isdir(path) else os.path.dirname(path)
    with open(os.path.join(folder, "MLmodel")) as f:
        conf = yaml.safe_load(f)["flavors"]["python_function"]
    code = conf.get("code")
    if code:
        code_dir = os.path.join(folder, code)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
    pyfunc = _ensure_base_classes()
    with open(os.path.join(folder, conf.get("python_model", MODEL_FILE)), "rb") as f:
        obj = cloudpickle.load(f)
    artifacts = {
        name: os.path.join(folder, rel) for name, rel in (conf.get("artifacts") or {}).items()
    }
    context = pyfunc.PythonModelContext(artifacts, model_config)
    return _LoadedPythonModel(obj, conf.get("model_kind", "python_model"), context)
