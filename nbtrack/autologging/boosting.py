"""What LightGBM's and XGBoost's autologging share: one ``train`` that every training goes through.

Both libraries train through a module-level ``train(params, data, ...)``
that their scikit-learn API's ``fit`` calls too, so the run is logged
there, once per outermost training of a thread. ``fit`` is wrapped only to
remember which estimator (and which ``X``) the training is for, so that the
run is named after the class and logs the estimator's params. Each library
gives a :class:`TrainHooks`: how to record its evaluation metrics per
iteration, and what to log once the booster exists.

As everywhere in autolog, anything that goes wrong becomes one warning and
the user's call, its result and its exceptions are untouched.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nbtrack.autologging.patches import Patches
from nbtrack.autologging.session import Session, Warner, begin, fail, finish

__all__ = ["TrainHooks", "TrainPatcher", "Training"]


@dataclass
class Training:
    """One call of ``train``: what it was given and what it returned.

    Attributes
    ----------
    params, train_set, args, kwargs:
        The call's arguments (``kwargs`` with the recorder added).
    evals:
        ``{dataset: {metric: [value per iteration]}}`` filled by the recorder.
    booster:
        What ``train`` returned.
    estimator, fit_data:
        The scikit-learn API estimator whose ``fit`` called ``train`` and its
        ``X``, or None for a direct ``train`` call.
    """

    params: dict[str, Any]
    train_set: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    evals: dict[str, dict[str, list[float]]]
    booster: Any
    estimator: Any
    fit_data: Any


class TrainHooks(Protocol):
    """A library's part of the integration."""

    def record(self, kwargs: dict[str, Any], evals: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with a recorder that fills ``evals`` per iteration."""

    def log(self, session: Session, training: Training) -> None:
        """Log the finished training into the session's run."""


class TrainPatcher:
    """Wrappers of ``train`` and ``fit`` for one library (see the module docstring)."""

    def __init__(self, library: str, hooks: TrainHooks, warn: Warner) -> None:
        self.library = library
        self.hooks = hooks
        self.warn = warn
        self._local = threading.local()

    def patch(
        self,
        patches: Patches,
        train_modules: tuple[Any, ...],
        estimators_module: Any,
        estimator_names: tuple[str, ...],
        enabled: Callable[[], bool],
    ) -> None:
        """Wrap ``train`` wherever ``train_modules`` refer to it, and the estimators' ``fit``.

        The first of ``train_modules`` holds the original ``train``; the sklearn
        API calls the name it imported into its own module, so every module
        holding that same function gets the wrapper.
        """
        original_train = train_modules[0].train
        wrapped = self.wrap_train(original_train, enabled)
        for owner in train_modules:
            if getattr(owner, "train", None) is original_train:
                patches.replace(owner, "train", original_train, wrapped)
        for name in estimator_names:
            cls = getattr(estimators_module, name, None)
            if cls is not None and "fit" in cls.__dict__:
                original_fit = cls.__dict__["fit"]
                patches.replace(cls, "fit", original_fit, self.wrap_fit(original_fit))

    def wrap_fit(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """``fit`` that lets ``train`` know its estimator and ``X``, and logs once it returns.

        The estimator only holds its booster after ``train`` has returned into
        ``fit``, so a training inside a ``fit`` is logged here, after it.
        """
        local, hooks, warn, library = self._local, self.hooks, self.warn, self.library

        @functools.wraps(original)
        def fit(estimator: Any, *args: Any, **kwargs: Any) -> Any:
            # XGBClassifier.fit and LGBMClassifier.fit call their base class's fit.
            if getattr(local, "estimator", None) is not None:
                return original(estimator, *args, **kwargs)
            local.estimator = estimator
            local.fit_data = args[0] if args else kwargs.get("X")
            local.pending = None
            try:
                result = original(estimator, *args, **kwargs)
            except BaseException as error:
                if local.pending is not None:
                    fail(local.pending[0], error, warn)
                raise
            finally:
                local.estimator = None
                local.fit_data = None
            pending, local.pending = local.pending, None
            if pending is not None:
                session, training = pending
                what = f"the {library} training"
                finish(session, lambda: hooks.log(session, training), what, warn)
            return result

        return fit

    def wrap_train(
        self, original: Callable[..., Any], enabled: Callable[[], bool]
    ) -> Callable[..., Any]:
        """``train`` logging a run when ``enabled()``, for the thread's outermost training only."""
        local, hooks, warn, library = self._local, self.hooks, self.warn, self.library

        @functools.wraps(original)
        def train(params: dict[str, Any], train_set: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(local, "depth", 0) or not enabled():
                return original(params, train_set, *args, **kwargs)
            local.depth = 1
            try:
                estimator = getattr(local, "estimator", None)
                name = type(estimator).__name__ if estimator is not None else library
                session = begin(name, {"nbtrack.autolog": library}, warn)
                evals: dict[str, dict[str, list[float]]] = {}
                if session is not None:
                    kwargs = hooks.record(kwargs, evals)
                try:
                    booster = original(params, train_set, *args, **kwargs)
                except BaseException as error:
                    if session is not None:
                        fail(session, error, warn)
                    raise
                if session is not None:
                    training = _training(
                        params, train_set, args, kwargs, evals, booster, estimator, local
                    )
                    if estimator is not None:
                        # fit logs it once the estimator holds the booster (see wrap_fit).
                        local.pending = (session, training)
                    else:
                        what = f"the {library} training"
                        finish(session, lambda: hooks.log(session, training), what, warn)
                return booster
            finally:
                local.depth = 0

        train.__nbtrack_original__ = original  # type: ignore[attr-defined]
        return train


def _training(
    params: dict[str, Any],
    train_set: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    evals: dict[str, dict[str, list[float]]],
    booster: Any,
    estimator: Any,
    local: threading.local,
) -> Training:
    return Training(
        params=dict(params or {}),
        train_set=train_set,
        args=args,
        kwargs=kwargs,
        evals=evals,
        booster=booster,
        estimator=estimator,
        fit_data=getattr(local, "fit_data", None),
    )
