"""``mlflow.sklearn``: scikit-learn models saved in MLflow's format by nbtrack."""

from __future__ import annotations

from typing import Any

import nbtrack
from nbtrack import load_model, save_model

__all__ = ["autolog", "load_model", "log_model", "save_model"]


def log_model(
    sk_model: Any, artifact_path: str | None = None, name: str | None = None, **options: Any
) -> Any:
    """Log a scikit-learn model to the active run (``artifact_path`` is MLflow 2's ``name``)."""
    return nbtrack.log_model(sk_model, name or artifact_path or "model", **options)


def autolog(**options: Any) -> None:
    """Turn on scikit-learn autologging."""
    nbtrack.autolog(**options)
