"""``mlflow.sklearn`` under nbtrack: save, log, load and autolog scikit-learn estimators.

The folders are the ``sklearn`` flavor's (see ``nbtrack/models/flavors/sklearn.py``),
written exactly as MLflow writes them, so ``mlflow.sklearn.load_model`` reads
them and ``nbtrack.sklearn.load_model`` reads MLflow's. ``load_model``
returns the estimator itself, as MLflow's does (``nbt.pyfunc.load_model``
gives the generic, signature-checking wrapper instead).

Importing this module is light: scikit-learn is only imported by the
functions that need it.
"""

from __future__ import annotations

import os
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "autolog",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SERIALIZATION_FORMAT_SKOPS = "skops"
SUPPORTED_SERIALIZATION_FORMATS = (
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_SKOPS,
)


def _options(serialization_format: str | None, pyfunc_predict_fn: str) -> dict[str, Any]:
    options: dict[str, Any] = {"pyfunc_predict_fn": pyfunc_predict_fn}
    if serialization_format is not None:
        options["serialization_format"] = serialization_format
    return options


def _refuse(ignored: dict[str, Any]) -> None:
    # MLflow options nbtrack does not implement fail loudly rather than being dropped.
    used = sorted(k for k, v in ignored.items() if v is not None)
    if used:
        raise InvalidInput(f"nbtrack.sklearn does not support {', '.join(used)}")


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    mlflow_model: Any = None,
    serialization_format: str | None = SERIALIZATION_FORMAT_CLOUDPICKLE,
    signature: Any = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
) -> Any:
    """Write an estimator to a new model folder, as ``mlflow.sklearn.save_model``.

    Parameters
    ----------
    sk_model:
        A scikit-learn estimator (or pipeline).
    path:
        The folder to create.
    serialization_format:
        ``"cloudpickle"`` (default), ``"pickle"`` or ``"skops"``.
    signature, input_example, pip_requirements, extra_pip_requirements:
        As :func:`nbtrack.models.save_model`; the signature is inferred from
        the example when not given.
    pyfunc_predict_fn:
        The method pyfunc's ``predict`` calls (``predict_proba``…).
    conda_env, code_paths, mlflow_model, metadata:
        MLflow options nbtrack does not support; passing one raises.

    Returns
    -------
    Model
        The ``MLmodel`` written.

    Raises
    ------
    InvalidInput
        ``sk_model`` is not an estimator, ``path`` is not empty, or an
        unsupported option was given.
    """
    from nbtrack.models.api import save_model as save

    _refuse(
        {
            "conda_env": conda_env,
            "code_paths": code_paths,
            "mlflow_model": mlflow_model,
            "metadata": metadata,
        }
    )
    return save(
        sk_model,
        path,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        flavor=FLAVOR_NAME,
        **_options(serialization_format, pyfunc_predict_fn),
    )


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: list[str] | None = None,
    serialization_format: str | None = SERIALIZATION_FORMAT_CLOUDPICKLE,
    registered_model_name: str | None = None,
    signature: Any = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log an estimator into the active run, as ``mlflow.sklearn.log_model``.

    Starts a run when none is active. ``name`` (MLflow 3) or ``artifact_path``
    (MLflow 2) is the model's artifact folder, ``"model"`` when neither is
    given. ``registered_model_name`` also registers it as a new version of
    that model (created if needed); registration is synchronous, so
    ``await_registration_for`` has nothing to wait for.

    Returns
    -------
    ModelInfo
        With ``model_uri`` = ``runs:/<run_id>/<name>`` and the registered version.

    Raises
    ------
    InvalidInput
        As :func:`save_model`, or for an invalid model name.
    """
    from nbtrack.models.api import log_model as log

    _refuse({"conda_env": conda_env, "code_paths": code_paths, "metadata": metadata, **kwargs})
    if name is None and artifact_path is None:
        name = "model"
    return log(
        sk_model,
        name,
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        flavor=FLAVOR_NAME,
        artifact_path=artifact_path,
        **_options(serialization_format, pyfunc_predict_fn),
    )


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load the scikit-learn estimator a model URI names (folder, ``runs:/``, ``models:/``).

    Raises
    ------
    InvalidInput
        The model at the URI has no ``sklearn`` flavor.
    NotFoundError
        Nothing at the URI.
    """
    from pathlib import Path

    from nbtrack.models.flavors.sklearn import SKLEARN
    from nbtrack.models.model import Model
    from nbtrack.models.pyfunc import resolve_model_uri

    folder = Path(resolve_model_uri(model_uri, dst_path))
    mlmodel = Model.load(folder)
    if FLAVOR_NAME not in mlmodel.flavors:
        raise InvalidInput(
            f"The model at {model_uri} has no sklearn flavor (it has {sorted(mlmodel.flavors)}); "
            "load it with nbtrack.pyfunc.load_model"
        )
    return SKLEARN.load(folder, mlmodel).estimator


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    **kwargs: Any,
) -> None:
    """Turn scikit-learn autologging on (off with ``disable=True``), as ``mlflow.sklearn.autolog``.

    Each ``fit`` then logs a run with the estimator's params, training
    metrics, the training data and (with ``log_models``) the fitted model.
    The other MLflow arguments are accepted; nbtrack always logs signatures
    and datasets.
    """
    from nbtrack.autologging import autolog as enable

    enable(disable=disable, log_models=log_models, frameworks=["sklearn"], silent=silent)


def get_default_pip_requirements() -> list[str]:
    """Return the pinned requirements an estimator's model folder lists by default."""
    from nbtrack.models.environment import pinned

    return list(pinned(["sklearn", "cloudpickle"]))
