"""Autologging: ``nbt.autolog()`` makes framework training calls log runs by themselves.

The package is ``autologging``, not ``autolog``: importing a subpackage sets it as
an attribute of ``nbtrack``, which would hide the public ``nbt.autolog`` function.

Each framework lives in its own module (``nbtrack.autologging.sklearn``,
``nbtrack.autologging.lightgbm``) that
patches the framework and can restore it exactly. Integrations form a small
registry: the built-in ones plus any module named in the ``nbtrack.autolog``
entry-point group. A framework that is not imported yet is patched when it is
imported (a ``sys.meta_path`` hook), so ``nbt.autolog()`` may come first in a
notebook and ``import sklearn`` later, as users write them.

An integration module provides ``MODULE`` (the top-level module it patches),
``enable(config)``, ``disable()`` and ``is_enabled()``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

from nbtrack.errors import InvalidInput, NbtrackWarning

__all__ = ["AutologConfig", "autolog", "integrations", "status"]

ENTRY_POINT_GROUP = "nbtrack.autolog"

#: Built-in integrations: name → module implementing it.
_BUILTINS: dict[str, str] = {
    "sklearn": "nbtrack.autologging.sklearn",
    "lightgbm": "nbtrack.autologging.lightgbm",
    "xgboost": "nbtrack.autologging.xgboost",
}


@dataclass
class AutologConfig:
    """What autologging records, as given to ``autolog``.

    Parameters
    ----------
    log_models:
        Log the fitted model as an MLflow-format model artifact ``model``.
    silent:
        Emit no warnings from autologging itself.
    """

    log_models: bool = True
    silent: bool = False


class Integration(Protocol):
    """The functions an autolog integration module provides."""

    MODULE: str

    def enable(self, config: AutologConfig) -> None: ...

    def disable(self) -> None: ...

    def is_enabled(self) -> bool: ...


_lock = threading.RLock()
#: Integrations waiting for their framework to be imported: top-level module → (name, config).
_pending: dict[str, tuple[str, AutologConfig]] = {}
_entry_points: dict[str, str] | None = None


def integrations() -> dict[str, str]:
    """Return the known integrations: name → module, built-ins first, then entry points.

    Returns
    -------
    dict
        E.g. ``{"sklearn": "nbtrack.autologging.sklearn"}``.
    """
    global _entry_points
    if _entry_points is None:
        from importlib.metadata import entry_points

        _entry_points = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found = dict(_BUILTINS)
    for name, value in _entry_points.items():
        found.setdefault(name, value)
    return found


def _integration(name: str) -> Integration:
    module = importlib.import_module(integrations()[name])
    return module


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Run the pending integrations right after their framework's top-level module executes."""

    def __init__(self) -> None:
        self._busy: set[str] = set()

    def find_spec(
        self,
        fullname: str,
        path: Any = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _pending or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            # The other finders locate the module; this one only wraps its loader.
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_patch(module: types.ModuleType) -> None:
            exec_module(module)
            _on_import(fullname)

        # On this spec's loader instance only: other modules keep the class's method.
        loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


_finder = _PostImportFinder()


def _install_finder() -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def _remove_finder() -> None:
    if not _pending and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


def _on_import(module_name: str) -> None:
    with _lock:
        item = _pending.pop(module_name, None)
        _remove_finder()
    if item is None:
        return
    name, config = item
    try:
        _integration(name).enable(config)
    except Exception as exc:  # the user's import must succeed whatever autolog does
        if not config.silent:
            warnings.warn(
                f"nbtrack autolog could not patch {name} on import: {type(exc).__name__}: {exc}",
                NbtrackWarning,
                stacklevel=2,
            )


def autolog(
    disable: bool = False,
    log_models: bool = True,
    frameworks: list[str] | tuple[str, ...] | str | None = None,
    silent: bool = False,
) -> None:
    """Turn autologging on (or off) for the supported frameworks.

    With autologging on, ``fit`` of a scikit-learn estimator makes a run (or
    logs into the active one) with the estimator's params, training metrics,
    the training data's shape and digest, and the fitted model. A framework
    imported later is patched when it is imported.

    Parameters
    ----------
    disable:
        Turn autologging off and restore every patched method.
    log_models:
        Log the fitted model as the artifact ``model`` (loadable with
        ``nbt.load_model``).
    frameworks:
        Names of the integrations to act on (``"sklearn"``, ``"lightgbm"``, ``"xgboost"``);
        all known ones when None.
    silent:
        Emit no warnings from autologging.

    Raises
    ------
    InvalidInput
        A name in ``frameworks`` is not a known integration.
    """
    known = integrations()
    if isinstance(frameworks, str):
        frameworks = [f for f in frameworks.split(",") if f]
    names = list(known) if frameworks is None else list(frameworks)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown autolog framework(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    config = AutologConfig(log_models=log_models, silent=silent)
    with _lock:
        for name in names:
            integration = _integration(name)
            module = integration.MODULE
            if disable:
                _pending.pop(module, None)
                integration.disable()
            elif module in sys.modules:
                _pending.pop(module, None)
                integration.enable(config)
            elif importlib.util.find_spec(module) is not None:
                _pending[module] = (name, config)
                _install_finder()
            else:
                # Not installed: nothing will ever import it, so nothing waits for it.
                _pending.pop(module, None)
        _remove_finder()


def status() -> str:
    """Describe autologging's state in one line, for ``%nbtrack status``.

    Returns
    -------
    str
        ``"off"``, or ``"on (sklearn)"``, with frameworks not imported yet
        listed as waiting for their import.
    """
    with _lock:
        waiting = sorted(name for name, _ in _pending.values())
        on = []
        for name, module_name in integrations().items():
            # An integration that was never loaded cannot be on.
            module = sys.modules.get(module_name)
            if module is not None and getattr(module, "is_enabled", lambda: False)():
                on.append(name)
    if not on and not waiting:
        return "off"
    parts = list(on) + [f"{name} (on import)" for name in waiting]
    return f"on ({', '.join(parts)})"
