"""What ``mlflow.<flavor>`` modules share: save, log and load through one flavor.

``nbtrack.lightgbm`` and ``nbtrack.xgboost`` (like MLflow's modules of the
same names) are thin: each names its flavor and its MLflow-only options,
and these functions do the work through :mod:`nbtrack.models.api`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["load_native", "log_with_flavor", "refuse_unsupported", "save_with_flavor"]


def refuse_unsupported(module: str, ignored: dict[str, Any]) -> None:
    """MLflow options nbtrack does not implement fail loudly rather than being dropped."""
    used = sorted(k for k, v in ignored.items() if v is not None)
    if used:
        raise InvalidInput(f"nbtrack.{module} does not support {', '.join(used)}")


def save_with_flavor(
    model: Any, path: str | os.PathLike[str], flavor: str, **arguments: Any
) -> Any:
    """``nbtrack.models.save_model`` with ``flavor`` chosen (the ``MLmodel`` written)."""
    from nbtrack.models.api import save_model

    return save_model(model, path, flavor=flavor, **arguments)


def log_with_flavor(
    model: Any, name: str | None, artifact_path: str | None, flavor: str, **arguments: Any
) -> Any:
    """``nbtrack.models.log_model`` with ``flavor`` chosen; ``"model"`` when no name is given."""
    from nbtrack.models.api import log_model

    if name is None and artifact_path is None:
        name = "model"
    return log_model(model, name, flavor=flavor, artifact_path=artifact_path, **arguments)


def load_native(model_uri: str | os.PathLike[str], flavor: str, dst_path: str | None) -> Any:
    """The framework's own model object a model URI holds (``Model.load`` + the flavor's reader).

    Raises
    ------
    InvalidInput
        The model has no ``flavor`` block (its flavors are named).
    NotFoundError
        Nothing at the URI, or the model file is missing.
    """
    from nbtrack.models.flavors import get_flavor
    from nbtrack.models.model import Model
    from nbtrack.models.pyfunc import resolve_model_uri

    folder = Path(resolve_model_uri(model_uri, dst_path))
    mlmodel = Model.load(folder)
    if flavor not in mlmodel.flavors:
        raise InvalidInput(
            f"The model at {model_uri} has no {flavor} flavor (it has {sorted(mlmodel.flavors)}); "
            "load it with nbtrack.pyfunc.load_model"
        )
    return get_flavor(flavor).load(folder, mlmodel).model  # type: ignore[attr-defined]
