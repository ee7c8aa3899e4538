"""``mlflow.lightgbm`` under nbtrack: save, log, load and autolog LightGBM models.

Folders are the ``lightgbm`` flavor's (``nbtrack/models/flavors/lightgbm.py``),
in MLflow's layout, so ``mlflow.lightgbm.load_model`` reads ours and
``nbtrack.lightgbm.load_model`` reads MLflow's. ``load_model`` returns the
booster or estimator itself, as MLflow's does. LightGBM is imported only by
the functions that need it.
"""

from __future__ import annotations

import os
from typing import Any

from nbtrack.models.native import load_native, log_with_flavor, refuse_unsupported, save_with_flavor

__all__ = ["FLAVOR_NAME", "autolog", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "lightgbm"


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Any = None,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str = "cloudpickle",
) -> Any:
    """Write a ``lightgbm.Booster`` or ``LGBMModel`` to a new folder, as MLflow's ``save_model``.

    The signature is inferred from ``input_example`` when not given; the
    MLflow-only ``conda_env``, ``code_paths``, ``mlflow_model`` and
    ``metadata`` raise when passed. Returns the ``MLmodel`` written.
    """
    refuse_unsupported(
        "lightgbm",
        {"conda_env": conda_env, "code_paths": code_paths, "mlflow_model": mlflow_model,
         "metadata": metadata},
    )  # fmt: skip
    return save_with_flavor(
        lgb_model, path, FLAVOR_NAME, signature=signature, input_example=input_example,
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
        serialization_format=serialization_format,
    )  # fmt: skip


def log_model(
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    serialization_format: str = "cloudpickle",
    **kwargs: Any,
) -> Any:
    """Log a LightGBM model into the active run (started if none), as MLflow's ``log_model``.

    ``name`` (MLflow 3) or ``artifact_path`` (MLflow 2) is the artifact
    folder, ``"model"`` by default; ``registered_model_name`` also registers
    it. Returns the ``ModelInfo``.
    """
    refuse_unsupported(
        "lightgbm", {"conda_env": conda_env, "code_paths": code_paths, "metadata": metadata,
                     **kwargs},
    )  # fmt: skip
    return log_with_flavor(
        lgb_model, name, artifact_path, FLAVOR_NAME, signature=signature,
        input_example=input_example, registered_model_name=registered_model_name,
        pip_requirements=pip_requirements, extra_pip_requirements=extra_pip_requirements,
        serialization_format=serialization_format,
    )  # fmt: skip


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The ``Booster`` or estimator a model URI names (folder, ``runs:/``, ``models:/``)."""
    return load_native(model_uri, FLAVOR_NAME, dst_path)


def autolog(
    log_models: bool = True, disable: bool = False, silent: bool = False, **kwargs: Any
) -> None:
    """Turn LightGBM autologging on (off with ``disable=True``), as ``mlflow.lightgbm.autolog``.

    Other MLflow arguments are accepted and ignored.
    """
    from nbtrack.autologging import autolog as enable

    enable(disable=disable, log_models=log_models, frameworks=["lightgbm"], silent=silent)
