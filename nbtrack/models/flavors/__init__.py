"""Model flavors: how one kind of model is written to a folder and read back.

A small registry (papermill's engines): the built-in flavors, then any
registered by other packages under the entry-point group ``nbtrack.flavors``
(each entry point names a :class:`Flavor` object or a zero-argument factory
returning one). ``save_model`` asks each flavor in order whether it accepts
the model, the catch-all ``callable`` flavor last; ``load_model`` picks the
flavor by the ``python_function`` block's ``loader_module`` (so MLflow's own
``mlflow.sklearn`` folders are read by our sklearn flavor without importing
MLflow), then by flavor name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nbtrack.errors import InvalidInput
from nbtrack.models.model import Model

__all__ = [
    "ENTRY_POINT_GROUP",
    "Flavor",
    "Predictor",
    "SavedFlavor",
    "flavor_for_loading",
    "flavor_for_model",
    "get_flavor",
    "register_flavor",
    "registered_flavors",
    "reject_unknown",
]

ENTRY_POINT_GROUP = "nbtrack.flavors"
# The flavor asked last when picking one for a model.
_FALLBACK = "callable"


@runtime_checkable
class Predictor(Protocol):
    """What a flavor's loader returns: anything with ``predict(data, params=None)``."""

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Return predictions for ``model_input``."""


@dataclass
class SavedFlavor:
    """What a flavor wrote into a model folder.

    Attributes
    ----------
    flavors:
        Flavor blocks for ``MLmodel``; must hold ``python_function``.
    modules:
        Import names whose installed versions go into ``requirements.txt``.
    """

    flavors: dict[str, dict[str, Any]]
    modules: list[str] = field(default_factory=list)


def reject_unknown(flavor: str, options: dict[str, Any], known: tuple[str, ...]) -> None:
    """Raise :class:`InvalidInput` naming options a flavor does not take (typos fail loudly)."""
    if options:
        raise InvalidInput(
            f"Flavor {flavor!r} does not take {', '.join(sorted(options))}; its options are "
            f"{', '.join(known)}"
        )


class Flavor(Protocol):
    """A model flavor.

    Attributes
    ----------
    name:
        The flavor's name in ``MLmodel`` (``sklearn``…).
    loader_modules:
        ``python_function.loader_module`` values whose folders this flavor reads.
    """

    name: str
    loader_modules: tuple[str, ...]

    def accepts(self, model: Any) -> bool:
        """Whether ``save_model`` should use this flavor for ``model``."""

    def save(self, model: Any, path: Path, **options: Any) -> SavedFlavor:
        """Write the model's files into ``path`` and describe them."""

    def load(self, path: Path, mlmodel: Model) -> Predictor:
        """Read a model folder written by this flavor (or by MLflow's matching one)."""


_registry: dict[str, Flavor] = {}
_builtins_loaded = False
_entry_points_loaded = False


def register_flavor(flavor: Flavor) -> None:
    """Add (or replace, keeping its place) a flavor; new ones are asked after the known ones."""
    _load_builtins()
    _load_entry_points()
    _registry[flavor.name] = flavor


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from nbtrack.models.flavors.lightgbm import LIGHTGBM
        from nbtrack.models.flavors.python_model import CALLABLE, PYTHON_MODEL
        from nbtrack.models.flavors.sklearn import SKLEARN
        from nbtrack.models.flavors.xgboost import XGBOOST

        # LightGBM's and XGBoost's estimators are scikit-learn estimators too: their own
        # flavors are asked before sklearn's.
        for flavor in (LIGHTGBM, XGBOOST, SKLEARN, PYTHON_MODEL, CALLABLE):
            _registry.setdefault(flavor.name, flavor)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from nbtrack.plugins import load_entry_points

    def flavor_of(obj: Any) -> Flavor:
        flavor = obj() if callable(obj) and not hasattr(obj, "save") else obj
        flavor.name  # noqa: B018  (a flavor without a name is a broken plug-in)
        return flavor

    for flavor in load_entry_points(ENTRY_POINT_GROUP, "Model flavor", flavor_of):
        _registry.setdefault(flavor.name, flavor)


def registered_flavors() -> list[Flavor]:
    """Every known flavor, built-ins first, then entry points, then ``register_flavor``'s."""
    _load_builtins()
    _load_entry_points()
    return list(_registry.values())


def get_flavor(name: str) -> Flavor:
    """Return a flavor by name.

    Raises
    ------
    InvalidInput
        No such flavor is registered.
    """
    for flavor in registered_flavors():
        if flavor.name == name:
            return flavor
    raise InvalidInput(
        f"Unknown model flavor {name!r}; known: {sorted(f.name for f in registered_flavors())}"
    )


def flavor_for_model(model: Any) -> Flavor:
    """Return the first flavor that accepts ``model``.

    Raises
    ------
    InvalidInput
        No flavor knows this kind of object.
    """
    known = registered_flavors()
    # "Any callable" is the fallback: plug-ins for callable models (torch modules…) go first.
    ordered = [f for f in known if f.name != _FALLBACK] + [f for f in known if f.name == _FALLBACK]
    for flavor in ordered:
        if flavor.accepts(model):
            return flavor
    raise InvalidInput(
        f"Cannot save a {type(model).__module__}.{type(model).__qualname__}: it is not a "
        "scikit-learn, LightGBM or XGBoost model, an nbtrack.pyfunc.PythonModel or a callable"
    )


def flavor_for_loading(mlmodel: Model) -> Flavor | None:
    """Return the flavor that reads this folder, or None (then the generic loader is used)."""
    loader = mlmodel.pyfunc_conf.get("loader_module")
    flavors = registered_flavors()
    for flavor in flavors:
        if loader in flavor.loader_modules:
            return flavor
    for flavor in flavors:
        if flavor.name in mlmodel.flavors:
            return flavor
    return None
