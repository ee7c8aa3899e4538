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

import re
import time
from typing import TYPE_CHECKING, Any

from nbtrack._validation import captured_param
from nbtrack.autologging.boosting import Training, TrainPatcher
from nbtrack.autologging.patches import Patches
from nbtrack.autologging.session import Session, Warner, log_model_into, new_params
from nbtrack.autologging.session import client as fluent_client
from nbtrack.entities import Metric, Param, RunTag

if TYPE_CHECKING:
    from nbtrack.autologging import AutologConfig

__all__ = ["MODEL_ARTIFACT", "MODULE", "disable", "enable", "is_enabled"]

MODULE = "lightgbm"
#: The model's artifact folder (the ``lightgbm`` flavor), as MLflow's autolog names it.
MODEL_ARTIFACT = "model"
_ESTIMATORS = ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")

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

    patcher = TrainPatcher(MODULE, _Hooks(), _warn)
    patcher.patch(
        _patched, (lightgbm.engine, lightgbm, lightgbm.sklearn), lightgbm.sklearn, _ESTIMATORS,
        is_enabled,
    )  # fmt: skip


def disable() -> None:
    """Restore every patched function exactly as it was."""
    global _config
    _config = None
    _patched.restore()


class _Hooks:
    """LightGBM's part: its ``record_evaluation`` callback, and what a training logs."""

    def record(self, kwargs: dict[str, Any], evals: dict[str, Any]) -> dict[str, Any]:
        """Add LightGBM's ``record_evaluation`` callback, which fills ``evals`` per iteration."""
        try:
            import lightgbm

            callbacks = list(kwargs.get("callbacks") or [])
            callbacks.append(lightgbm.record_evaluation(evals))
            return {**kwargs, "callbacks": callbacks}
        except Exception as exc:  # guard: without the recorder the training still runs
            _warn("record the evaluation metrics", exc)
            return kwargs

    def log(self, session: Session, training: Training) -> None:
        """Params, per-iteration metrics, data shape and digest, then the model."""
        _log(session, training)


def _log(session: Session, training: Training) -> None:
    from nbtrack.autologging.sklearn import data_digest

    client = fluent_client()
    estimator = training.estimator
    values: dict[str, Any] = dict(training.params)
    if estimator is not None:
        values.update(estimator.get_params(deep=False))
    args, kwargs = training.args, training.kwargs
    rounds = args[0] if args else kwargs.get("num_boost_round", 100)
    values.setdefault("num_boost_round", rounds)
    logged = {k: captured_param(k, v) for k, v in values.items() if not callable(v)}
    tags: dict[str, str] = {}
    if estimator is not None:
        cls = type(estimator)
        tags["estimator_name"] = cls.__name__
        tags["estimator_class"] = f"{cls.__module__}.{cls.__qualname__}"
    data = training.fit_data
    if data is None:
        data = getattr(training.train_set, "data", None)
    if data is not None and hasattr(data, "shape"):
        logged["training_data.shape"] = str(data.shape)
        digest = data_digest(data)
        if digest is not None:
            tags["training_data.digest"] = digest
    logged = new_params(session, client, logged)
    now = int(time.time() * 1000)
    metrics = [
        Metric(_metric_key(f"{dataset}-{name}"), float(value), now, step)
        for dataset, by_name in training.evals.items()
        for name, series in by_name.items()
        for step, value in enumerate(series)
    ]
    best = getattr(training.booster, "best_iteration", 0)
    if best and best > 0:
        metrics.append(Metric("best_iteration", float(best), now, 0))
    client.log_batch(
        session.run_id,
        metrics=metrics,
        params=[Param(k, v) for k, v in logged.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    if _config is not None and _config.log_models:
        log_model_into(session, estimator if estimator is not None else training.booster, MODULE)


def _metric_key(key: str) -> str:
    """LightGBM names its sets freely; metric keys allow letters, digits and ``_-. /``."""
    return _BAD_KEY_CHARS.sub("_", key)
