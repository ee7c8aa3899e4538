"""The ``sklearn`` flavor: scikit-learn estimators, written exactly as MLflow writes them.

Saving writes ``model.pkl`` with cloudpickle (the format MLflow's autolog
uses, and the fastest to write) and a ``python_function`` block naming
``mlflow.sklearn`` as loader, so ``mlflow.pyfunc.load_model`` loads our
folders with its own code. Loading reads MLflow's folders in all three
serialisations: ``skops`` (MLflow 3's default, loaded through skops'
trusted-types check), ``cloudpickle`` and ``pickle``.

Unpickling runs code from the file: load only models you trust. skops files
are checked against skops' default trusted types only: the
``skops_trusted_types`` an MLmodel lists are not read, since a crafted model
would list its own types and so trust itself. Types beyond the defaults are
trusted by the caller, after inspecting them: :func:`load_estimator` with
``trusted=[...]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.models.environment import pickled_modules
from nbtrack.models.flavors import SavedFlavor, reject_unknown
from nbtrack.models.model import Model

__all__ = ["SKLEARN", "SklearnFlavor"]

FORMATS = ("cloudpickle", "pickle", "skops")
_FILES = {"cloudpickle": "model.pkl", "pickle": "model.pkl", "skops": "model.skops"}


class _SklearnPredictor:
    """Calls the estimator's ``predict`` (or the method ``predict_fn`` names)."""

    def __init__(self, estimator: Any, predict_fn: str = "predict") -> None:
        self.estimator = estimator
        self.predict_fn = predict_fn

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return getattr(self.estimator, self.predict_fn)(model_input)


class SklearnFlavor:
    """Save and load scikit-learn estimators (see the module docstring)."""

    name = "sklearn"
    loader_modules: tuple[str, ...] = ("mlflow.sklearn",)

    def accepts(self, model: Any) -> bool:
        """True for scikit-learn estimators (anything deriving from ``BaseEstimator``)."""
        import sys

        if "sklearn" not in sys.modules:
            return False  # nothing can be an estimator if sklearn was never imported
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator)

    def save(
        self,
        model: Any,
        path: Path,
        serialization_format: str = "cloudpickle",
        pyfunc_predict_fn: str = "predict",
        **options: Any,
    ) -> SavedFlavor:
        """Write the estimator and return the ``sklearn`` and ``python_function`` blocks."""
        import sklearn

        reject_unknown(self.name, options, ("serialization_format", "pyfunc_predict_fn"))
        if serialization_format not in FORMATS:
            raise InvalidInput(
                f"serialization_format must be one of {list(FORMATS)}, not {serialization_format!r}"
            )
        if not callable(getattr(model, pyfunc_predict_fn, None)):
            raise InvalidInput(
                f"{type(model).__name__} has no method {pyfunc_predict_fn!r} to serve predictions"
            )
        filename = _FILES[serialization_format]
        target = path / filename
        modules = ["sklearn", "numpy", "scipy", "pandas"]
        if serialization_format == "skops":
            import skops.io

            skops.io.dump(model, target)
            modules.append("skops")
        else:
            if serialization_format == "cloudpickle":
                import cloudpickle as pickler

                modules.append("cloudpickle")
            else:
                import pickle as pickler
            payload = pickler.dumps(model)
            target.write_bytes(payload)
            # Estimators from other packages (xgboost, a user's transformers…) count too.
            modules.extend(sorted(pickled_modules(payload)))
        return SavedFlavor(
            flavors={
                "python_function": {
                    "loader_module": "mlflow.sklearn",
                    "model_path": filename,
                    "predict_fn": pyfunc_predict_fn,
                },
                "sklearn": {
                    "code": None,
                    "pickled_model": filename,
                    "serialization_format": serialization_format,
                    "sklearn_version": sklearn.__version__,
                    "skops_trusted_types": None,
                },
            },
            modules=modules,
        )

    def load(self, path: Path, mlmodel: Model) -> _SklearnPredictor:
        """Load an estimator from a folder written by nbtrack or by MLflow."""
        conf = mlmodel.flavors.get("sklearn", {})
        pyfunc = mlmodel.pyfunc_conf
        filename = conf.get("pickled_model") or pyfunc.get("model_path") or pyfunc.get("data")
        if not filename:
            raise InvalidInput(f"The MLmodel at {path} names no scikit-learn model file")
        fmt = conf.get("serialization_format", "pickle")
        if fmt not in FORMATS:
            raise InvalidInput(
                f"The model at {path} uses serialization format {fmt!r}; nbtrack reads "
                f"{list(FORMATS)}"
            )
        target = path / filename
        if not target.is_file():
            raise NotFoundError(f"Model file {target} is missing")
        # Not conf["skops_trusted_types"]: the file must not vouch for itself.
        return _SklearnPredictor(
            load_estimator(target, fmt),
            pyfunc.get("predict_fn", "predict"),
        )


def load_estimator(target: Path, fmt: str, trusted: list[str] | None = None) -> Any:
    """Deserialise an estimator file in one of :data:`FORMATS`.

    ``trusted`` adds types to skops' defaults: the caller's decision, taken
    after reading the list the error below gives (never from the model's folder).

    Raises
    ------
    InvalidInput
        A skops file holds types that are not trusted (they are listed).
    """
    if fmt == "skops":
        import skops.io
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            return skops.io.load(target, trusted=trusted)
        except UntrustedTypesFoundException:
            untrusted = skops.io.get_untrusted_types(file=target)
            raise InvalidInput(
                f"The skops model {target} holds types that are not trusted: {untrusted}; "
                "inspect them and, if they are safe, load the file with "
                "nbtrack.models.flavors.sklearn.load_estimator(path, 'skops', trusted=[...])"
            ) from None
    if fmt == "cloudpickle":
        import cloudpickle as pickler
    else:
        import pickle as pickler
    with target.open("rb") as f:
        return pickler.load(f)


SKLEARN = SklearnFlavor()
