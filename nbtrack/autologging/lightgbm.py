"""LightGBM autologging: ``lightgbm.train`` and the scikit-learn API's ``fit`` log a run.

LightGBM's estimators (``LGBMClassifier``…) subclass scikit-learn's
``BaseEstimator`` but are not scikit-learn's own, so the sklearn integration
(which patches the classes ``sklearn.utils.all_estimators`` lists) leaves
them alone. Every LightGBM training goes through ``lightgbm.train`` (the
sklearn API calls it too), so that is where the run is logged: the params,
``num_boost_round``, each validation set's metrics per iteration (through
LightGBM's own ``record_evaluation`` callback), the best iteration, the
training data's shape and digest, and the booster in LightGBM's text format
(artifact ``lightgbm-model.txt``; ``lightgbm.Booster(model_file=…)`` loads it).
A ``fit`` of the sklearn API names the run after its class and logs the
estimator's own params.

As in the sklearn integration, only the outermost training of a thread logs,
anything that goes wrong becomes one ``NbtrackWarning``, and the user's call,
its result and its exceptions are untouched.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbtrack._validation import captured_param
from nbtrack.autologging.patches import Patches
from nbtrack.autologging.session import Session, Warner, begin, fail, finish, new_params
from nbtrack.autologging.session import client as fluent_client
from nbtrack.entities import Metric, Param, RunTag

if TYPE_CHECKING:
    from nbtrack.autologging import AutologConfig

__all__ = ["MODEL_ARTIFACT", "MODULE", "disable", "enable", "is_enabled"]

MODULE = "lightgbm"
#: The booster, in LightGBM's own text format.
MODEL_ARTIFACT = "lightgbm-model.txt"
_ESTIMATORS = ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")

_local = threading.local()
_config: AutologConfig | None = None
_patched = Patches()


def is_enabled() -> bool:
    """Return whether LightGBM autologging is on."""
    return _config is not None


#: Logging failures become one warning each (none with autolog(silent=True)).
_warn = Warner(lambda: _config is not None and _config.silent, "training")


def enable(config: AutologConfig) -> None:
    """Patch ``lightgbm.train`` (where the package refers to it) and the estimators' ``fit``.

    Calling it again only updates the configuration.
    """
    global _config
    _config = config
    if _patched:
        return
    import lightgbm
    import lightgbm.engine
    import lightgbm.sklearn

    original_train = lightgbm.engine.train
    wrapped = _wrap_train(original_train)
    # The sklearn API calls the name it imported into its own module.
    for owner in (lightgbm, lightgbm.engine, lightgbm.sklearn):
        if getattr(owner, "train", None) is original_train:
            _patched.replace(owner, "train", original_train, wrapped)
    for name in _ESTIMATORS:
        cls = getattr(lightgbm.sklearn, name, None)
        if cls is not None and "fit" in cls.__dict__:
            original_fit = cls.__dict__["fit"]
            _patched.replace(cls, "fit", original_fit, _wrap_fit(original_fit))


def disable() -> None:
    """Restore every patched function exactly as it was."""
    global _config
    _config = None
    _patched.restore()


def _wrap_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the outermost fit names the run (LGBMClassifier.fit calls LGBMModel.fit).
        outer = getattr(_local, "estimator", None) is None
        if outer:
            _local.estimator = self
            _local.fit_data = args[0] if args else kwargs.get("X")
        try:
            return original(self, *args, **kwargs)
        finally:
            if outer:
                _local.estimator = None
                _local.fit_data = None

    return fit


def _wrap_train(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def train(params: dict[str, Any], train_set: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_local, "depth", 0)
        if depth or _config is None:
            return original(params, train_set, *args, **kwargs)
        _local.depth = 1
        try:
            session = _begin()
            evals: dict[str, dict[str, list[float]]] = {}
            if session is not None:
                kwargs = _with_recorder(kwargs, evals)
            try:
                booster = original(params, train_set, *args, **kwargs)
            except BaseException as error:
                if session is not None:
                    fail(session, error, _warn)
                raise
            if session is not None:
                finish(
                    session,
                    lambda: _log(session, params, train_set, args, kwargs, evals, booster),
                    "the lightgbm training",
                    _warn,
                )
            return booster
        finally:
            _local.depth = 0

    train.__nbtrack_original__ = original  # type: ignore[attr-defined]
    return train


def _with_recorder(kwargs: dict[str, Any], evals: dict[str, Any]) -> dict[str, Any]:
    """Add LightGBM's ``record_evaluation`` callback, which fills ``evals`` per iteration."""
    try:
        import lightgbm

        callbacks = list(kwargs.get("callbacks") or [])
        callbacks.append(lightgbm.record_evaluation(evals))
        return {**kwargs, "callbacks": callbacks}
    except Exception as exc:  # guard: without the recorder the training still runs
        _warn("record the evaluation metrics", exc)
        return kwargs


def _run_name() -> str:
    estimator = getattr(_local, "estimator", None)
    return type(estimator).__name__ if estimator is not None else "lightgbm"


def _begin() -> Session | None:
    return begin(_run_name(), {"nbtrack.autolog": "lightgbm"}, _warn)


def _log(
    session: Session,
    params: dict[str, Any],
    train_set: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    evals: dict[str, dict[str, list[float]]],
    booster: Any,
) -> None:
    from nbtrack.autologging.sklearn import data_digest

    client = fluent_client()
    estimator = getattr(_local, "estimator", None)
    values: dict[str, Any] = dict(params or {})
    if estimator is not None:
        values.update(estimator.get_params(deep=False))
    rounds = args[0] if args else kwargs.get("num_boost_round", 100)
    values.setdefault("num_boost_round", rounds)
    logged = {k: captured_param(k, v) for k, v in values.items() if not callable(v)}
    tags: dict[str, str] = {}
    if estimator is not None:
        cls = type(estimator)
        tags["estimator_name"] = cls.__name__
        tags["estimator_class"] = f"{cls.__module__}.{cls.__qualname__}"
    data = getattr(_local, "fit_data", None)
    if data is None:
        data = getattr(train_set, "data", None)
    if data is not None and hasattr(data, "shape"):
        logged["training_data.shape"] = str(data.shape)
        digest = data_digest(data)
        if digest is not None:
            tags["training_data.digest"] = digest
    logged = new_params(session, client, logged)
    now = int(time.time() * 1000)
    metrics = [
        Metric(_metric_key(f"{dataset}-{name}"), float(value), now, step)
        for dataset, by_name in evals.items()
        for name, series in by_name.items()
        for step, value in enumerate(series)
    ]
    best = getattr(booster, "best_iteration", 0)
    if best and best > 0:
        metrics.append(Metric("best_iteration", float(best), now, 0))
    client.log_batch(
        session.run_id,
        metrics=metrics,
        params=[Param(k, v) for k, v in logged.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    if _config is not None and _config.log_models:
        client.log_text(session.run_id, booster.model_to_string(), MODEL_ARTIFACT)


def _metric_key(key: str) -> str:
    """LightGBM names its sets freely; metric keys allow letters, digits and ``_-. /``."""
    return _BAD_KEY_CHARS.sub("_", key)
