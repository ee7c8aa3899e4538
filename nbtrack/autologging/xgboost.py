"""XGBoost autologging: ``xgboost.train`` and the scikit-learn API's ``fit`` log a run.

Every XGBoost training goes through ``xgboost.training.train`` (the
estimators' ``fit`` calls it too), wrapped by the scaffolding shared with
LightGBM (:mod:`nbtrack.autologging.boosting`). A run records, with
MLflow's names:

- the booster's params, ``num_boost_round`` and, for a ``fit``, the
  estimator's own params, the training data's shape and digest;
- each evaluation set's metrics per iteration (``validation_0-logloss``…,
  step = iteration), read from the ``evals_result`` XGBoost fills;
- ``best_iteration`` and ``stopped_iteration`` after early stopping;
- feature importance by weight: ``feature_importance_weight.json`` (the
  table, as MLflow writes it) and ``feature_importance_weight.svg`` (a bar
  chart through nbtrack's one vega-lite renderer);
- with ``log_models``, the model (artifact ``model``, the ``xgboost``
  flavor): the estimator for a ``fit``, else the booster.
"""

from __future__ import annotations

import json
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
    from nbtrack.tracking.client import Client

__all__ = ["IMPORTANCE_ARTIFACT", "MODULE", "disable", "enable", "is_enabled"]

MODULE = "xgboost"
#: The feature-importance table MLflow's autolog writes (the chart is beside it, ``.svg``).
IMPORTANCE_ARTIFACT = "feature_importance_weight.json"
_ESTIMATORS = ("XGBModel", "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier",
               "XGBRFRegressor")  # fmt: skip
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")

_config: AutologConfig | None = None
_patched = Patches()

#: Logging failures become one warning each (none with autolog(silent=True)).
_warn = Warner(lambda: _config is not None and _config.silent, "training")


def is_enabled() -> bool:
    """Return whether XGBoost autologging is on."""
    return _config is not None


def enable(config: AutologConfig) -> None:
    """Patch ``xgboost.train`` (wherever the package refers to it) and the estimators' ``fit``.

    Calling it again only updates the configuration.
    """
    global _config
    _config = config
    if _patched:
        return
    import xgboost
    import xgboost.sklearn
    import xgboost.training

    patcher = TrainPatcher(MODULE, _Hooks(), _warn)
    patcher.patch(
        _patched, (xgboost.training, xgboost, xgboost.sklearn), xgboost.sklearn, _ESTIMATORS,
        is_enabled,
    )  # fmt: skip


def disable() -> None:
    """Restore every patched function exactly as it was."""
    global _config
    _config = None
    _patched.restore()


class _Hooks:
    """XGBoost's part: its ``evals_result`` dict, and what a training logs."""

    def record(self, kwargs: dict[str, Any], evals: dict[str, Any]) -> dict[str, Any]:
        """Pass ``evals`` as ``evals_result`` unless the caller (``fit`` does) passes its own."""
        if kwargs.get("evals_result") is None:
            return {**kwargs, "evals_result": evals}
        return kwargs

    def log(self, session: Session, training: Training) -> None:
        """Params, per-iteration metrics, early stopping, importance, then the model."""
        client = fluent_client()
        _log_run_data(session, client, training)
        _log_importance(session, client, training.booster)
        if _config is not None and _config.log_models:
            model = training.estimator if training.estimator is not None else training.booster
            log_model_into(session, model, MODULE)


def _log_run_data(session: Session, client: Client, training: Training) -> None:
    from nbtrack.autologging.sklearn import data_digest

    estimator = training.estimator
    values: dict[str, Any] = dict(training.params)
    if estimator is not None:
        values.update(estimator.get_params(deep=False))
    args, kwargs = training.args, training.kwargs
    values.setdefault("num_boost_round", args[0] if args else kwargs.get("num_boost_round", 10))
    for key in ("early_stopping_rounds", "maximize", "verbose_eval"):
        if kwargs.get(key) is not None:
            values.setdefault(key, kwargs[key])
    logged = {k: captured_param(k, v) for k, v in values.items() if not callable(v)}
    tags: dict[str, str] = {}
    if estimator is not None:
        cls = type(estimator)
        tags["estimator_name"] = cls.__name__
        tags["estimator_class"] = f"{cls.__module__}.{cls.__qualname__}"
    data = training.fit_data
    if data is not None and hasattr(data, "shape"):
        logged["training_data.shape"] = str(data.shape)
        digest = data_digest(data)
        if digest is not None:
            tags["training_data.digest"] = digest
    elif hasattr(training.train_set, "num_row"):
        logged["training_data.shape"] = str(
            (training.train_set.num_row(), training.train_set.num_col())
        )
    logged = new_params(session, client, logged)
    now = int(time.time() * 1000)
    evals = kwargs.get("evals_result") or training.evals
    metrics = [
        Metric(_BAD_KEY_CHARS.sub("_", f"{dataset}-{name}"), float(value), now, step)
        for dataset, by_name in evals.items()
        for name, series in by_name.items()
        for step, value in enumerate(series)
    ]
    if kwargs.get("early_stopping_rounds") is not None:
        booster = training.booster
        metrics.append(Metric("best_iteration", float(booster.best_iteration), now, 0))
        metrics.append(Metric("stopped_iteration", float(booster.num_boosted_rounds() - 1), now, 0))
    client.log_batch(
        session.run_id,
        metrics=metrics,
        params=[Param(k, v) for k, v in logged.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )


def _log_importance(session: Session, client: Client, booster: Any) -> None:
    """The importance table (MLflow's JSON) and its bar chart, when the booster has features."""
    scores = booster.get_score(importance_type="weight")
    if not scores:
        return
    client.log_text(session.run_id, json.dumps(scores, indent=2), IMPORTANCE_ARTIFACT)
    from nbtrack.evaluation.result import chart_svg

    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Feature importance (weight)",
        "data": {"values": [{"feature": k, "weight": v} for k, v in ranked]},
        "mark": "bar",
        "encoding": {
            "y": {"field": "feature", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": "weight", "type": "quantitative"},
        },
    }
    client.log_text(session.run_id, chart_svg(spec), IMPORTANCE_ARTIFACT.replace(".json", ".svg"))
