"""``save_model`` and ``log_model``: write a model folder, or write it into the active run.

Both pick the flavor from the model (sklearn estimator, ``PythonModel``,
callable), write the environment files and the input example, and infer the
signature from the example when none is given. ``log_model`` saves into a
temporary folder, copies it into the run's artifacts and records it in the
``mlflow.log-model.history`` run tag, as MLflow does.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NbtrackWarning
from nbtrack.models.model import Model, ModelInfo
from nbtrack.models.registry import register_model
from nbtrack.models.signature import ModelSignature, infer_signature

__all__ = ["log_model", "register_model", "save_model"]

HISTORY_TAG = "mlflow.log-model.history"


def _check_destination(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidInput(f"Cannot save a model to {path}: it exists and is not an empty folder")


def _example_output(model: Any, flavor_name: str, data: Any, options: dict[str, Any]) -> Any:
    # Only estimators are cheap and side-effect free to call here; a PythonModel
    # would need its load_context first.
    if flavor_name == "sklearn":
        predict = getattr(model, options.get("pyfunc_predict_fn", "predict"))
    elif flavor_name == "lightgbm":
        from nbtrack.models.flavors.lightgbm import LightgbmPredictor

        predict = LightgbmPredictor(model).predict
    elif flavor_name == "xgboost":
        from nbtrack.models.flavors.xgboost import XgboostPredictor

        predict = XgboostPredictor(model).predict
    else:
        return None
    try:
        return predict(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        warnings.warn(
            f"The model failed on its input example ({exc}); the signature has no outputs",
            NbtrackWarning,
            stacklevel=3,
        )
        return None


def _save(
    model: Any,
    path: Path,
    signature: ModelSignature | bool | None,
    input_example: Any,
    pip_requirements: list[str] | None,
    extra_pip_requirements: list[str] | None,
    flavor: str | None,
    run_id: str | None,
    artifact_path: str | None,
    options: dict[str, Any],
) -> Model:
    from nbtrack.models.example import as_example_data
    from nbtrack.models.flavors import flavor_for_model, get_flavor

    _check_destination(path)
    chosen = get_flavor(flavor) if flavor else flavor_for_model(model)
    example = as_example_data(input_example) if input_example is not None else None
    if signature is True or (signature is None and example is not None):
        if example is None:
            raise InvalidInput("signature=True needs an input_example to infer it from")
        output = _example_output(model, chosen.name, example, options)
        signature = infer_signature(example, output)
    elif signature is False:
        signature = None
    if signature is not None and not isinstance(signature, ModelSignature):
        raise InvalidInput(
            f"signature must be a ModelSignature (see infer_signature), not "
            f"{type(signature).__name__}"
        )
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        return _write(
            model,
            path,
            chosen,
            signature,
            example,
            pip_requirements,
            extra_pip_requirements,
            run_id,
            artifact_path,
            options,
        )
    except BaseException:
        # A refused model leaves no half-written folder behind (re-raised below).
        shutil.rmtree(path, ignore_errors=True)
        if not created:
            path.mkdir()
        raise


def _write(
    model: Any,
    path: Path,
    chosen: Any,
    signature: ModelSignature | None,
    example: Any,
    pip_requirements: list[str] | None,
    extra_pip_requirements: list[str] | None,
    run_id: str | None,
    artifact_path: str | None,
    options: dict[str, Any],
) -> Model:
    from nbtrack.models.environment import pinned, write_environment
    from nbtrack.models.example import save_example

    saved = chosen.save(model, path, **options)
    if "python_function" not in saved.flavors:
        raise InvalidInput(f"Flavor {chosen.name!r} wrote no python_function block")
    requirements = list(pip_requirements) if pip_requirements else pinned(saved.modules)
    requirements += list(extra_pip_requirements or [])
    pyfunc = saved.flavors["python_function"]
    pyfunc["env"] = write_environment(path, requirements)
    pyfunc["python_version"] = platform.python_version()
    mlmodel = Model(
        flavors=saved.flavors,
        signature=signature,
        run_id=run_id,
        artifact_path=artifact_path,
    )
    if example is not None:
        mlmodel.saved_input_example_info = save_example(path, example)
    mlmodel.extra["model_size_bytes"] = sum(
        f.stat().st_size for f in path.rglob("*") if f.is_file()
    )
    mlmodel.save(path)
    return mlmodel


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    flavor: str | None = None,
    **options: Any,
) -> Model:
    """Write ``model`` to a new folder in MLflow's model format.

    Parameters
    ----------
    model:
        A scikit-learn estimator, an ``nbtrack.pyfunc.PythonModel`` instance
        or any callable taking the model input.
    path:
        The folder to create (it may exist if empty).
    signature:
        A :class:`~nbtrack.models.signature.ModelSignature`; None infers it
        from ``input_example`` (if given); False saves none.
    input_example:
        A few rows of input (DataFrame, numpy array, dict, list of records).
    pip_requirements:
        Replace the inferred requirements.
    extra_pip_requirements:
        Add to the inferred requirements.
    flavor:
        Force a flavor by name instead of picking it from the model.
    **options:
        Flavor options: ``serialization_format`` (sklearn: ``"cloudpickle"``,
        ``"pickle"`` or ``"skops"``), ``pyfunc_predict_fn`` (sklearn),
        ``artifacts`` and ``code_paths`` (python models).

    Returns
    -------
    Model
        The ``MLmodel`` written.

    Raises
    ------
    InvalidInput
        ``path`` is not empty, no flavor accepts the model, or an option is wrong.
    """
    return _save(
        model,
        Path(path),
        signature,
        input_example,
        pip_requirements,
        extra_pip_requirements,
        flavor,
        None,
        None,
        options,
    )


def _history_tag(old: str | None, entry: dict[str, Any]) -> str:
    from nbtrack._validation import MAX_TAG_VALUE_LENGTH

    try:
        history = json.loads(old) if old else []
    except ValueError:
        history = []
    if not isinstance(history, list):
        history = []
    history.append(entry)
    text = json.dumps(history)
    # Oldest entries give way when the tag would exceed the store's limit.
    while len(text) > MAX_TAG_VALUE_LENGTH and len(history) > 1:
        history.pop(0)
        text = json.dumps(history)
    return text


def log_model(
    model: Any,
    name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    flavor: str | None = None,
    artifact_path: str | None = None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` into the active run's artifacts under ``name``.

    Starts a run if none is active, as MLflow does. Parameters are those of
    :func:`save_model`, plus:

    Parameters
    ----------
    name:
        Artifact folder of the model in the run (``"model"``).
    registered_model_name:
        Also register the model as a new version of this registered model
        (created if missing); the number is in ``registered_model_version``.
    artifact_path:
        MLflow 2's name for ``name``, accepted so older code runs.

    Returns
    -------
    ModelInfo
        With ``model_uri`` = ``runs:/<run_id>/<name>``.

    Raises
    ------
    InvalidInput
        ``registered_model_name`` is not a valid model name, ``name`` is not a
        valid artifact path, or :func:`save_model` refused the model.
    """
    from nbtrack.store.artifacts import validate_artifact_path
    from nbtrack.tracking import fluent
    from nbtrack.tracking.client import Client

    if registered_model_name is not None:
        from nbtrack.store.registry_checks import model_name

        model_name(registered_model_name)  # refuse a bad name before saving anything
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidInput(f"Give name or artifact_path, not both ({name!r}, {artifact_path!r})")
    artifact_path = validate_artifact_path(name if name is not None else artifact_path)
    if not artifact_path:
        raise InvalidInput("log_model needs a non-empty name for the model's artifact folder")
    # Like MLflow, logging without an active run starts one.
    run_id = (fluent.active_run() or fluent.start_run()).info.run_id
    client = Client()
    with tempfile.TemporaryDirectory(prefix="nbtrack-model-") as tmp:
        local = Path(tmp) / "model"
        mlmodel = _save(
            model,
            local,
            signature,
            input_example,
            pip_requirements,
            extra_pip_requirements,
            flavor,
            run_id,
            artifact_path,
            options,
        )
        client.log_artifacts(run_id, local, artifact_path)
    entry = {
        "run_id": run_id,
        "artifact_path": artifact_path,
        "utc_time_created": mlmodel.utc_time_created,
        "model_uuid": mlmodel.model_uuid,
        "flavors": mlmodel.flavors,
    }
    old = client.get_run(run_id).data.tags.get(HISTORY_TAG)
    client.set_tag(run_id, HISTORY_TAG, _history_tag(old, entry))
    model_uri = f"runs:/{run_id}/{artifact_path}"
    version = None
    if registered_model_name is not None:
        version = register_model(model_uri, registered_model_name).version
    return ModelInfo(
        model_uri=model_uri,
        run_id=run_id,
        artifact_path=artifact_path,
        flavors=mlmodel.flavors,
        signature=mlmodel.signature,
        model_uuid=mlmodel.model_uuid,
        utc_time_created=mlmodel.utc_time_created,
        registered_model_version=version,
    )
