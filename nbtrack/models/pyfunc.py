"""``nbt.pyfunc``: one interface to every saved model, ``load_model(uri).predict(data)``.

Whatever the flavor, a loaded model is a :class:`PyFuncModel` whose
``predict`` first enforces the saved signature, so bad input fails with the
column's name instead of deep inside the estimator. Users write custom models
by subclassing :class:`PythonModel`, as in MLflow.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.model import Model
from nbtrack.models.signature import ModelSignature, enforce

__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "resolve_model_uri",
    "save_model",
]


class PythonModelContext:
    """What :meth:`PythonModel.load_context` receives.

    Attributes
    ----------
    artifacts:
        ``{name: local path}`` of the artifacts saved with the model.
    model_config:
        Configuration given at load time (empty by default).
    """

    def __init__(
        self, artifacts: dict[str, str], model_config: dict[str, Any] | None = None
    ) -> None:
        self.artifacts = artifacts
        self.model_config = model_config or {}

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self.artifacts!r})"


class PythonModel:
    """Base class of custom models: override :meth:`predict`, and :meth:`load_context` if needed.

    Instances are saved with cloudpickle; files they need at prediction time
    go in ``save_model(..., artifacts={name: path})`` and are found again in
    ``context.artifacts[name]``.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load what ``predict`` needs from ``context.artifacts`` (called once at load).

        Parameters
        ----------
        context:
            Paths of the saved artifacts, and the load-time configuration.
        """

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Return predictions for ``model_input``.

        Parameters
        ----------
        context:
            The same context ``load_context`` received.
        model_input:
            Input already checked against the signature (a DataFrame for
            column signatures, a numpy array for tensor ones).
        params:
            Inference parameters, or None.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement predict()")


class PyFuncModel:
    """A loaded model: ``predict`` with signature enforcement, plus its ``metadata``.

    Attributes
    ----------
    metadata:
        The parsed ``MLmodel`` (:class:`~nbtrack.models.model.Model`).
    path:
        The local model folder.
    """

    def __init__(self, metadata: Model, impl: Any, path: str) -> None:
        self.metadata = metadata
        self.path = path
        self._impl = impl

    def __repr__(self) -> str:
        flavors = ", ".join(k for k in self.metadata.flavors if k != "python_function")
        return f"PyFuncModel(flavor={flavors or 'python_function'}, path={self.path!r})"

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, or None."""
        return self.metadata.signature

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, or None."""
        from nbtrack.models.example import load_example

        return load_example(self.path, self.metadata.saved_input_example_info)

    def unwrap_python_model(self) -> Any:
        """Return the underlying object (the estimator, PythonModel or callable)."""
        for attr in ("python_model", "estimator", "sklearn_model"):
            if hasattr(self._impl, attr):
                return getattr(self._impl, attr)
        return self._impl

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Check ``data`` against the signature, then predict.

        Parameters
        ----------
        data:
            A DataFrame, numpy array, dict of columns or list of records.
        params:
            Inference parameters passed to the model.

        Raises
        ------
        InvalidInput
            A required column is missing or a value cannot be converted to
            its column's type (the column is named).
        """
        return self._impl.predict(enforce(self.metadata.signature, data), params=params)


def resolve_model_uri(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> str:
    """Return a local folder holding the model that ``model_uri`` names.

    Parameters
    ----------
    model_uri:
        A local path (or ``file://`` URI), ``runs:/<run_id>/<path>``,
        ``models:/<name>/<version>``, ``models:/<name>/<stage>``,
        ``models:/<name>/latest`` or ``models:/<name>@<alias>``.
    dst_path:
        Where to download a run's model (a temporary folder by default).

    Raises
    ------
    InvalidInput
        A malformed URI or an unknown scheme.
    NotFoundError
        The path, artifact, registered model, version or alias does not exist.
    """
    uri = os.fspath(model_uri)
    if uri.startswith("models:/"):
        from nbtrack.models.registry import resolve_models_uri

        version = resolve_models_uri(uri)
        if not version.source or version.source.startswith("models:/"):
            raise InvalidInput(
                f"Version {version.version} of {version.name!r} has no loadable source"
            )
        return resolve_model_uri(version.source, dst_path)
    if uri.startswith("runs:/"):
        from nbtrack.tracking.client import Client
        from nbtrack.uris import parse_runs_uri

        run_id, path = parse_runs_uri(uri)
        return Client().download_artifacts(run_id, path, dst_path)
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    elif "://" in uri or uri.startswith(("models:", "runs:")):
        raise InvalidInput(f"Unsupported model URI {uri!r}: use a folder, runs:/ or models:/")
    if not Path(uri).exists():
        raise NotFoundError(f"No model at {uri!r}: the path does not exist")
    return uri


def _generic_impl(folder: Path, mlmodel: Model) -> Any:
    conf = mlmodel.pyfunc_conf
    loader = conf.get("loader_module")
    if not loader:
        raise InvalidInput(f"The model at {folder} has no python_function loader_module")
    data = folder / conf["data"] if conf.get("data") else folder
    try:
        module = importlib.import_module(loader)
    except ImportError as exc:
        raise InvalidInput(
            f"The model at {folder} needs loader module {loader!r}, which cannot be imported "
            f"here ({exc}); install the package it comes from"
        ) from None
    return module._load_pyfunc(str(data))


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> PyFuncModel:
    """Load a model saved by nbtrack or MLflow.

    Parameters
    ----------
    model_uri:
        A model folder, ``file://`` URI, ``runs:/<run_id>/<path>`` or a
        registry URI: ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
        ``models:/<name>/<stage>`` (newest in that stage), ``models:/<name>/latest``.
    dst_path:
        Where to download a model from a run (a temporary folder by default).

    Returns
    -------
    PyFuncModel

    Raises
    ------
    InvalidInput
        A malformed URI, a folder without a ``python_function``
        flavor, or a loader module that cannot be imported.
    NotFoundError
        Nothing at the URI, or no ``MLmodel`` in the folder.
    """
    from nbtrack.models.flavors import flavor_for_loading

    folder = Path(resolve_model_uri(model_uri, dst_path))
    mlmodel = Model.load(folder)
    if "python_function" not in mlmodel.flavors:
        raise InvalidInput(
            f"The model at {folder} has no python_function flavor (it has "
            f"{sorted(mlmodel.flavors)}); it cannot be loaded generically"
        )
    code = mlmodel.pyfunc_conf.get("code")
    if code:
        code_dir = str(folder / code)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
    flavor = flavor_for_loading(mlmodel)
    impl = flavor.load(folder, mlmodel) if flavor is not None else _generic_impl(folder, mlmodel)
    return PyFuncModel(mlmodel, impl, str(folder))


def save_model(
    path: str | os.PathLike[str],
    python_model: Any = None,
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    code_paths: list[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    **kwargs: Any,
) -> Model:
    """Save a :class:`PythonModel` (or a callable), with MLflow's ``pyfunc.save_model`` arguments.

    See :func:`nbtrack.models.save_model` for the other keyword arguments.

    Raises
    ------
    InvalidInput
        ``python_model`` is missing or neither a ``PythonModel`` nor a callable.
    """
    from nbtrack.models.api import save_model as save

    options = _python_model_options("save_model", python_model, artifacts, code_paths, kwargs)
    return save(python_model, path, signature=signature, input_example=input_example, **options)


def log_model(
    name: str | None = None,
    python_model: Any = None,
    artifacts: dict[str, str | os.PathLike[str]] | None = None,
    code_paths: list[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    **kwargs: Any,
) -> Any:
    """Log a :class:`PythonModel` (or a callable) to the active run, as ``mlflow.pyfunc.log_model``.

    Returns a :class:`~nbtrack.models.model.ModelInfo`; see
    :func:`nbtrack.models.log_model` for the other keyword arguments.

    Raises
    ------
    InvalidInput
        ``python_model`` is missing, or as :func:`nbtrack.models.log_model`.
    """
    from nbtrack.models.api import log_model as log

    options = _python_model_options("log_model", python_model, artifacts, code_paths, kwargs)
    return log(python_model, name, signature=signature, input_example=input_example, **options)


def _python_model_options(
    verb: str,
    python_model: Any,
    artifacts: dict[str, str | os.PathLike[str]] | None,
    code_paths: list[str | os.PathLike[str]] | None,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    if python_model is None:
        raise InvalidInput(f"pyfunc.{verb} needs python_model= (a PythonModel or a callable)")
    options = dict(kwargs)
    if code_paths:
        options["code_paths"] = code_paths
    if artifacts:
        options["artifacts"] = artifacts
    return options
